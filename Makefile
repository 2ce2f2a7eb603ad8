# The two commands a new user needs:
#   make demo   installs what is needed, builds, generates sample traffic, writes Zeek logs and
#               analyzes a simulated office week with staged attacks
#   make test   installs what is needed, builds and runs every test
SWIFT ?= swift
OUT ?= out

.PHONY: demo console test build release bench bench-learn bench-mcp bench-serve eval eval-mcp eval-rephrase fuzz clean

build:
	./scripts/setup build
	$(SWIFT) build

release:
	./scripts/setup build
	SWIFT=$(SWIFT) ./scripts/build-release

demo: release
	mkdir -p $(OUT)
	.build/release/vigil synth --sessions 5000 --out $(OUT)/sample.pcap
	.build/release/vigil logs $(OUT)/sample.pcap --out $(OUT)/logs --db $(OUT)/vigil.sqlite
	@echo; echo "== $(OUT)/logs (Zeek layout; RITA and Zeek tools read these)"; ls -l $(OUT)/logs
	@echo; echo "== first connections"; grep -v '^#' $(OUT)/logs/conn.log | head -5
	@echo; echo "== first TLS handshakes"; grep -v '^#' $(OUT)/logs/ssl.log | head -3
	@echo; echo "== a simulated office week (24 devices, 5 days) with staged attacks, learned and analyzed"
	.build/release/vigil simulate --devices 24 --days 5 --attacks all --out $(OUT)/office.pcap
	.build/release/vigil analyze $(OUT)/office.pcap --json $(OUT)/report.json --markdown $(OUT)/incidents.md --html $(OUT)/incidents.html --db $(OUT)/vigil.sqlite --fresh
	@echo; echo "== an AI agent's week through the MCP gateway (its signed audit log), learned and analyzed"
	.build/release/vigil mcp keygen --out $(OUT)/gateway
	.build/release/vigil mcp simulate --out $(OUT)/agent-audit.jsonl --key $(OUT)/gateway.key
	.build/release/vigil mcp audit verify $(OUT)/agent-audit.jsonl --key $(OUT)/gateway.pub
	.build/release/vigil analyze --agents $(OUT)/agent-audit.jsonl --agent-key $(OUT)/gateway.pub --markdown $(OUT)/agent-incidents.md --json $(OUT)/agent-report.json
	@echo; echo "== the live service: 'make console' replays this week into vigil serve and opens the API and web console on http://127.0.0.1:8640/"

console: release
	./scripts/console-demo.sh

test:
	./scripts/setup test
	$(SWIFT) build
	$(SWIFT) test --parallel
	./fuzz/run.sh 60

bench:
	./scripts/setup bench
	SWIFT=$(SWIFT) ./scripts/build-release
	./bench/run.sh

bench-learn:
	./scripts/setup bench
	./bench/learn.sh

bench-mcp:
	./scripts/setup bench
	SWIFT=$(SWIFT) ./scripts/build-release
	./bench/mcp.sh

bench-serve:
	./bench/serve.sh

eval:
	./scripts/setup build
	./eval/run.sh

eval-mcp:
	./eval/mcp_content.sh

eval-rephrase:
	./eval/rephrase.sh

fuzz:
	./fuzz/run.sh 300

clean:
	rm -rf .build $(OUT)
