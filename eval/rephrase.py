"""The optional rewording against a real model on loopback: which incidents' rewordings the fact
check kept, which it refused and why. usage: rephrase.py VIGIL LLAMA_SERVER MODEL.gguf [--devices N]"""
import argparse
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

ap = argparse.ArgumentParser()
ap.add_argument("vigil")
ap.add_argument("server")
ap.add_argument("model")
ap.add_argument("--devices", type=int, default=40)
ap.add_argument("--timeout", type=int, default=120, help="--rephrase-timeout, seconds per answer")
args = ap.parse_args()
W = os.path.join(os.path.dirname(os.path.abspath(__file__)), "work")
os.makedirs(W, exist_ok=True)

s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
log = open(os.path.join(W, "llama-server.log"), "w")
server = subprocess.Popen([args.server, "-m", args.model, "--host", "127.0.0.1", "--port", str(port), "-c", "8192",
                           "-t", str(os.cpu_count() or 2), "--seed", "1", "-np", "1"], stdout=log, stderr=log)
try:
    for _ in range(120):
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).status == 200:
                break
        except Exception:
            time.sleep(1)
    else:
        sys.exit("llama-server did not start; see eval/work/llama-server.log")
    pcap = os.path.join(W, "rephrase-week.pcap")
    subprocess.run([args.vigil, "simulate", "--devices", str(args.devices), "--days", "7", "--seed", "99", "--attacks", "all",
                    "--out", pcap], check=True, stderr=subprocess.DEVNULL)
    out = os.path.join(W, "rephrase.json")
    t0 = time.time()
    p = subprocess.run([args.vigil, "analyze", pcap, "--json", out, "--top", "0", "--rephrase", f"http://127.0.0.1:{port}/v1",
                        "--rephrase-model", "gemma-3-270m", "--rephrase-timeout", str(args.timeout)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.time() - t0
    os.remove(pcap)
    if p.returncode not in (0, 3):
        sys.exit(f"vigil analyze failed: {p.stderr}")
finally:
    server.kill()
    server.wait()

report = json.load(open(out))
notes = {m.group(1): m.group(2) for m in re.finditer(r"^rephrase: (INC-\w+): (.*)$", p.stderr, re.M)}
print("| incident | paragraphs | outcome |")
print("|---|---|---|")
for i in report["incidents"]:
    note = notes.get(i["id"], "not asked")
    kept = i.get("rephrasing") is not None
    print(f"| {i['title'][:70]} | {len(i['narrative'])} | {'kept' if kept else note.replace('kept the deterministic write-up: ', 'refused: ')} |")
print()
print(f"{len(report['incidents'])} incidents, {sum(1 for i in report['incidents'] if i.get('rephrasing'))} rewordings kept; "
      f"vigil analyze with the rewording took {seconds:.0f} s")
