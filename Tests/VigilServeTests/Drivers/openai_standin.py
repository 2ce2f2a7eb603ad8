"""A stand-in for a local OpenAI-compatible model server (llama.cpp, vLLM, Ollama /v1), on
loopback, for the rephrasing tests: no model is downloadable here, so it rewords by rule.

usage: openai_standin.py MODE     MODE: faithful | hallucinate | broken
Prints the port on the first line, then serves POST /v1/chat/completions until killed.
faithful rewords without touching any fact; hallucinate also adds an address the write-up
never names; broken answers HTTP 500. Every request is appended to stderr as JSON.
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

MODE = sys.argv[1]


def reword(text):
    for a, b in [("Between ", "From "), (" produced ", " generated "), ("involving", "touching"),
                 ("signal(s)", "signals"), ("witness(es)", "witnesses"), ("The activity follows", "It follows")]:
        text = text.replace(a, b)
    return text


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        sys.stderr.write(json.dumps(body) + "\n")
        sys.stderr.flush()
        if MODE == "broken" or self.path != "/v1/chat/completions":
            self.send_response(500)
            self.end_headers()
            return
        text = reword(body["messages"][-1]["content"])
        if MODE == "hallucinate":
            text += " The attacker also reached 203.0.113.99 from there."
        out = json.dumps({"id": "x", "object": "chat.completion", "model": body.get("model"),
                          "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


server = HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
