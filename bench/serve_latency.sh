#!/usr/bin/env bash
# Latency of nnlab serve's POST /api/predict on loopback: 1,000 sequential requests with a PNG body and
# 1,000 with JSON pixels (p50, p99, mean), then 50 concurrent requests (all answered, all correct), against
# the release build. Needs a run folder with a checkpoint (default runs/, e.g. from bench/train.sh).
#
# Usage: bench/serve_latency.sh [--runs DIR] [--requests N]
set -euo pipefail
cd "$(dirname "$0")/.."

runs=runs requests=1000
while [[ $# -gt 0 ]]; do
    [[ $# -ge 2 ]] || { echo "bench/serve_latency.sh: $1 needs a value" >&2; exit 2; }
    case "$1" in
        --runs) runs="$2" ;;
        --requests) requests="$2" ;;
        *) echo "bench/serve_latency.sh: unknown argument '$1' (expected --runs, --requests)" >&2; exit 2 ;;
    esac
    shift 2
done
mnist="${MNIST_DIR:-../shared/mnist}"

cargo build --release --quiet
log="$(mktemp)"
target/release/nnlab serve --addr 127.0.0.1:0 --runs "$runs" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 50); do grep -q http:// "$log" && break; sleep 0.1; done
url="$(grep -o 'http://[0-9.:]*' "$log" | head -1)"

echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) threads"
echo "server: $url, runs from $runs"
python3 - "$url" "$mnist" "$requests" <<'PY'
import gzip, http.client, json, statistics, struct, sys, threading, time, urllib.parse, zlib

url, mnist, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
host = urllib.parse.urlparse(url).netloc
with gzip.open(f"{mnist}/t10k-images-idx3-ubyte.gz") as f:
    images = f.read()[16:]
with gzip.open(f"{mnist}/t10k-labels-idx1-ubyte.gz") as f:
    labels = f.read()[8:]

def png(pixels, w=28, h=28):
    rows = b"".join(b"\x00" + bytes(pixels[r * w:(r + 1) * w]) for r in range(h))
    chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")

digits = [images[k * 784:(k + 1) * 784] for k in range(100)]
bodies = [(png(d), "image/png") for d in digits]
jsons = [(json.dumps({"pixels": [p / 255 for p in d]}).encode(), "application/json") for d in digits]

def post(conn, body, kind):
    conn.request("POST", "/api/predict", body, {"Content-Type": kind})
    r = conn.getresponse()
    return r.status, json.loads(r.read())

def run(label, payloads):
    conn = http.client.HTTPConnection(host)
    post(conn, *payloads[0])  # load the checkpoint before timing
    times, right = [], 0
    for k in range(n):
        t = time.perf_counter()
        status, answer = post(conn, *payloads[k % len(payloads)])
        times.append((time.perf_counter() - t) * 1000)
        assert status == 200, answer
        right += answer["digit"] == labels[k % len(payloads)]
    times.sort()
    p = lambda q: times[min(len(times) - 1, int(q * len(times)))]
    print(f"{label}: {n} sequential requests, p50 {p(0.5):.2f} ms, p99 {p(0.99):.2f} ms, mean {statistics.mean(times):.2f} ms, "
          f"{right}/{n} digits right (checkpoint {answer['checkpoint']})")

run("PNG body (decode + centre + CNN)", bodies)
run("JSON pixels (CNN only)", jsons)

results = [None] * 50
def one(k):
    conn = http.client.HTTPConnection(host)
    results[k] = post(conn, *bodies[k % len(bodies)])
threads = [threading.Thread(target=one, args=(k,)) for k in range(50)]
t = time.perf_counter()
for th in threads: th.start()
for th in threads: th.join()
elapsed = (time.perf_counter() - t) * 1000
ok = sum(1 for s, a in results if s == 200)
right = sum(1 for k, (s, a) in enumerate(results) if s == 200 and a["digit"] == labels[k % len(bodies)])
print(f"50 concurrent PNG requests: {ok}/50 answered 200, {right}/50 digits right, all done in {elapsed:.0f} ms")
PY
