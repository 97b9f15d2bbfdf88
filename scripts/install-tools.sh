#!/usr/bin/env bash
# Installs the pinned external tools the test suites drive (Helm v3 and v4, the ChartMuseum push plugin,
# MinIO, stripe-mock, Mailpit (SMTP for the mail suites) and ChartMuseum for the comparison bench) with `go install` into ./.tools, and reuses what is already there.
# The bench also needs two system packages, wrk (its load generator) and nginx (its static ceiling), and
# taskset (util-linux) to pin them; the browser suites need Debian's chromium (driven by playwright-core,
# which cannot download a browser here): installed with apt-get when missing and running as root, else a hint.
# Usage: scripts/install-tools.sh [name ...]   (default: all; names: the Go tools below, wrk, nginx, chromium)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
mkdir -p "$tools/bin"

# The bench only runs its own nginx (own config, free port, child process); never the system service.
system_tools() {
  local missing=()
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
  command -v taskset >/dev/null 2>&1 || missing+=(util-linux)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  command -v skopeo >/dev/null 2>&1 || missing+=(skopeo)
  [ ${#missing[@]} -eq 0 ] && return 0
  local hint="the bench and the browser suites need the Debian packages ${missing[*]} (wrk: load generator; nginx-light: the nginx ceiling; util-linux: taskset; chromium: /usr/bin/chromium for playwright-core; skopeo: an OCI client for the registry suite)"
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "install-tools: $hint; install them as root: apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  echo "install-tools: apt-get install ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # A fresh container has no package lists yet: update once if the first attempt cannot find them.
  apt-get install -y --no-install-recommends "${missing[@]}" ||
    { apt-get update && apt-get install -y --no-install-recommends "${missing[@]}"; } || {
    echo "install-tools: apt-get could not install ${missing[*]}; $hint" >&2
    exit 1
  }
  command -v wrk >/dev/null 2>&1 && { command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; } &&
    [ -x /usr/bin/chromium ] && command -v skopeo >/dev/null 2>&1 || {
    echo "install-tools: wrk, nginx, chromium or skopeo still missing after apt-get; $hint" >&2
    exit 1
  }
}

require_go() {
  if ! command -v go >/dev/null 2>&1; then
    echo "install-tools: Go is required (https://go.dev/dl/, 1.24 or newer) to build the pinned test tools" >&2
    exit 1
  fi
}

# name | go package@version | binary name inside the module's GOBIN
declare -A PKG=(
  [helm3]="helm.sh/helm/v3/cmd/helm@v3.21.4"
  [helm4]="helm.sh/helm/v4/cmd/helm@v4.2.4"
  [helm-cm-push]="github.com/chartmuseum/helm-push/cmd/helm-cm-push@v0.10.4"
  [minio]="github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"
  [stripe-mock]="github.com/stripe/stripe-mock@v0.203.0"
  [chartmuseum]="github.com/helm/chartmuseum/cmd/chartmuseum@v0.16.3"
  [mailpit]="github.com/axllent/mailpit@v1.33.1"
  # The newest Helm releases the module proxy serves, beside the pins above: the OCI suite runs both.
  [helm3-next]="helm.sh/helm/v3/cmd/helm@v3.22.0"
  [helm4-next]="helm.sh/helm/v4/cmd/helm@v4.3.1"
  # OCI clients for the registry suites, and the reference registry for the bench.
  [crane]="github.com/google/go-containerregistry/cmd/crane@v0.22.1"
  [oras]="oras.land/oras/cmd/oras@v1.3.6"
  [regctl]="github.com/regclient/regclient/cmd/regctl@v0.11.7"
  [containerd]="github.com/containerd/containerd/v2/cmd/containerd@v2.4.2"
  [ctr]="github.com/containerd/containerd/v2/cmd/ctr@v2.4.2"
  [registry]="github.com/distribution/distribution/v3/cmd/registry@v3.1.2"
  [oci-conformance]="github.com/opencontainers/distribution-spec/conformance@v0.0.0-20260831232431-97274622c111"
)
declare -A BIN=([helm3]=helm [helm4]=helm [helm-cm-push]=helm-cm-push [minio]=minio [stripe-mock]=stripe-mock [chartmuseum]=chartmuseum [mailpit]=mailpit
  [helm3-next]=helm [helm4-next]=helm [crane]=crane [oras]=oras [regctl]=regctl [containerd]=containerd [ctr]=ctr
  [registry]=registry [oci-conformance]=conformance.test)

install_one() {
  local name=$1 pkg=${PKG[$1]} ver=${PKG[$1]##*@}
  local dir="$tools/$name/$ver"
  if [ -x "$dir/${BIN[$name]}" ]; then
    ln -sfn "$dir/${BIN[$name]}" "$tools/bin/$name"
    return 0
  fi
  require_go
  echo "install-tools: building $pkg" >&2
  mkdir -p "$dir"
  if [ "$name" = helm-cm-push ]; then
    # The proxy refuses this module's version list, which `go install pkg@v` reads for deprecations;
    # download the exact version and build it inside its own module instead.
    local src
    src=$(go mod download -json "github.com/chartmuseum/helm-push@$ver" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
    (cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -ldflags="-s -w" -o "$dir/helm-cm-push" ./cmd/helm-cm-push)
  elif [ "$name" = chartmuseum ]; then
    # For `npm run bench -- --vs chartmuseum` and its smoke test. The proxy refuses v0.16.4 and v0.16.5 under both
    # module paths (helm.sh/chartmuseum, github.com/helm/chartmuseum); v0.16.3 is served under the old
    # GitHub path, whose go.mod names helm.sh/chartmuseum, so the checksum database has no record of it.
    # Instead of that record, the zip's hash is pinned here and checked before anything is built.
    local src sum
    local want="h1:ghaSBogM9oT8v1OGM6iFtN7YCvs5qjR3VuF86CQUp1A="
    local json
    json=$(GOSUMDB=off GOFLAGS=-mod=mod go mod download -json "github.com/helm/chartmuseum@$ver")
    src=$(printf '%s' "$json" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
    sum=$(printf '%s' "$json" | sed -n 's/.*"Sum": "\(.*\)".*/\1/p')
    if [ "$sum" != "$want" ]; then
      echo "install-tools: chartmuseum@$ver has hash '$sum', expected $want; refusing to build it" >&2
      exit 1
    fi
    (cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -ldflags="-s -w -X main.Version=$ver" -o "$dir/chartmuseum" ./cmd/chartmuseum)
  elif [ "$name" = oci-conformance ]; then
    # The distribution-spec conformance suite is a Go test package: built as a test binary.
    local src
    src=$(GOFLAGS=-mod=mod go mod download -json "github.com/opencontainers/distribution-spec/conformance@$ver" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
    (cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=mod go test -c -o "$dir/conformance.test" .)
  elif [ "$name" = containerd ]; then
    # No btrfs headers and no CRI here: the tests pull and unpack with the native snapshotter only.
    GOBIN="$dir" CGO_ENABLED=0 GOFLAGS=-mod=mod go install -tags 'no_btrfs no_cri' -ldflags="-s -w" "$pkg"
  else
    GOBIN="$dir" CGO_ENABLED=0 GOFLAGS=-mod=mod go install -ldflags="-s -w" "$pkg"
  fi
  ln -sfn "$dir/${BIN[$name]}" "$tools/bin/$name"
}

names=("$@")
[ ${#names[@]} -eq 0 ] && names=(wrk nginx chromium skopeo helm3 helm4 helm-cm-push minio stripe-mock chartmuseum mailpit
  helm3-next helm4-next crane oras regctl containerd ctr registry oci-conformance)
system_done=
for n in "${names[@]}"; do
  if [ "$n" = wrk ] || [ "$n" = nginx ] || [ "$n" = chromium ] || [ "$n" = skopeo ]; then
    [ -n "$system_done" ] || system_tools
    system_done=1
    continue
  fi
  [ -n "${PKG[$n]:-}" ] || { echo "install-tools: unknown tool $n" >&2; exit 2; }
  install_one "$n"
done

# The cm-push plugin, laid out as a Helm plugin directory so both Helm versions can load it.
plugin="$tools/helm-plugins/helm-push"
# No `downloaders:` (the cm:// scheme): Helm v4 would then load it as a getter plugin, not a command.
if [ -x "$tools/bin/helm-cm-push" ]; then
  mkdir -p "$plugin/bin"
  ln -sfn "$tools/bin/helm-cm-push" "$plugin/bin/helm-cm-push"
  cat > "$plugin/plugin.yaml" <<'YAML'
name: "cm-push"
version: "0.10.4"
usage: "Please see https://github.com/chartmuseum/helm-push for usage"
description: "Push chart package to ChartMuseum"
command: "$HELM_PLUGIN_DIR/bin/helm-cm-push"
YAML
fi
echo "install-tools: ready in $tools/bin" >&2
