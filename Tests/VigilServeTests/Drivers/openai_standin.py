"""A stand-in for a local OpenAI-compatible model server (llama.cpp, vLLM, Ollama /v1), on
loopback, for the rephrasing tests: no model is downloadable here, so it rewords by rule.

usage: openai_standin.py MODE     MODE: faithful | hallucinate | misplace | runaway | slow | broken
Prints the port on the first line, then serves POST /v1/chat/completions until killed.
faithful rewords without touching any fact; hallucinate also adds an address the write-up
never names; misplace puts an address of the first paragraph into the last one, as a real
small model (Gemma 3 270M through llama.cpp's server) did, naming the wrong device as the
server; runaway stops at the request's max_tokens mid-text, as that model did (refusing a
request without max_tokens); slow answers after 10 s; broken answers HTTP 500. Every request is
appended to stderr as JSON.
"""
import json
import re
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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
        if MODE == "broken" or self.path != "/v1/chat/completions" or (MODE == "runaway" and "max_tokens" not in body):
            self.send_response(500 if MODE == "broken" else 400)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if MODE == "slow":
            time.sleep(10)
        text = reword(body["messages"][-1]["content"])
        finish = "stop"
        if MODE == "hallucinate":
            text += " The attacker also reached 203.0.113.99 from there."
        if MODE == "misplace":
            paragraphs = text.split("\n\n")
            first = re.findall(r"\b\d+\.\d+\.\d+\.\d+\b", paragraphs[0])
            extra = [a for a in first if a not in paragraphs[-1]]
            if len(paragraphs) > 1 and extra:
                paragraphs[-1] += " It involves " + extra[0] + "."
            text = "\n\n".join(paragraphs)
        if MODE == "runaway":
            text, finish = text[: len(text) // 2], "length"
        out = json.dumps({"id": "x", "object": "chat.completion", "model": body.get("model"),
                          "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
