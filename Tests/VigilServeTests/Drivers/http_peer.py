"""A web server on loopback for the HTTP client's tests. Prints its port on the first line.
GET /big answers 100,000 bytes; GET /hold sends its headers and then nothing until the client
goes; GET /header answers 204 with an `Mcp-Session-Id` header."""
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/big":
            body = b"x" * 100_000
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/hold":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            self.wfile.flush()
            try:
                for _ in range(600):
                    time.sleep(0.1)
            except Exception:
                pass
        else:
            self.send_response(204)
            self.send_header("Mcp-Session-Id", "abc123")
            self.send_header("Content-Length", "0")
            self.end_headers()


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
