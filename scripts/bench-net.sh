#!/bin/sh
# bench-net.sh: HTTPS requests per second and TLS handshakes per second for
# Hearth against nginx (Debian's) on the same machine, side by side, as ratios.
#   host:  build/host/hearth (no sanitizers, -O2; libslirp forwards a
#          loopback port) against nginx on loopback, both serving the same
#          16 KiB body (Hearth's /api/v1/test/blob, nginx a file of it)
#          with an ECDSA P-256 certificate, one worker each.
#   qemu:  the image in QEMU (TCG) through QEMU's port forward, against the
#          same nginx: how far emulation puts it.
# Load: wrk (requests/s over 4 keep-alive connections for DURATION s) and
# openssl s_time -new (full handshakes/s). Figures, never pass/fail.
set -e
cd "$(dirname "$0")/.."
DURATION=${DURATION:-5}
export DEBIAN_FRONTEND=noninteractive
need=""
for p in nginx-light wrk; do
	dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || need="$need $p"
done
if [ -n "$need" ]; then
	echo "bench-net: installing$need"
	apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
B=build/bench/net
rm -rf "$B" && mkdir -p "$B/www/api/v1/test"
# Hearth for the host without sanitizers, in its own build directory.
make -s BOARD=host O=build/host-bench olddefconfig >/dev/null
sed -i 's/^CONFIG_HOST_SANITIZE=y/# CONFIG_HOST_SANITIZE is not set/' build/host-bench/.config
make -s BOARD=host O=build/host-bench >/dev/null
make -s BOARD=qemu-virt >/dev/null

SIZE=16384
/usr/bin/python3 -c "import sys; sys.stdout.buffer.write(bytes(((i*31+7)&0xff) for i in range($SIZE)))" \
	> "$B/www/api/v1/test/blob"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj /CN=localhost -keyout "$B/key.pem" -out "$B/cert.pem" 2>/dev/null
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
NGX=$(port)
cat > "$B/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $PWD/$B/nginx.pid;
error_log $PWD/$B/nginx.err;
events { worker_connections 256; }
http {
	access_log off;
	server {
		listen 127.0.0.1:$NGX ssl;
		ssl_certificate $PWD/$B/cert.pem;
		ssl_certificate_key $PWD/$B/key.pem;
		ssl_protocols TLSv1.2;
		ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256;
		root $PWD/$B/www;
		keepalive_requests 100000;
	}
}
EOF
nginx -c "$PWD/$B/nginx.conf" -p "$PWD/$B" &
NGX_PID=$!
HP=$(port)
build/host-bench/hearth hearth.testapi "hearth.hostfwd=tcp:127.0.0.1:$HP-:443" \
	> "$B/hearth.log" 2>&1 &
H_PID=$!
QP=$(port)
qemu-system-aarch64 -M virt -cpu cortex-a57 -m 256M -display none -serial "file:$B/qemu.log" \
	-monitor none -no-reboot -device virtio-rng-device \
	-netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$QP-:443" -device virtio-net-device,netdev=n0 \
	-kernel build/qemu-virt/hearth.img -append hearth.testapi &
Q_PID=$!
trap 'kill $NGX_PID $H_PID $Q_PID 2>/dev/null || true' EXIT
for i in $(seq 100); do
	grep -q "serving https" "$B/hearth.log" 2>/dev/null && grep -q "serving https" "$B/qemu.log" 2>/dev/null && break
	sleep 0.2
done

rps() { # URL -> requests/s
	wrk -t1 -c4 -d"${DURATION}s" "$1" 2>/dev/null | awk '/Requests\/sec/ {print $2}'
}
hs() { # PORT -> handshakes/s
	openssl s_time -connect "127.0.0.1:$1" -new -time "$DURATION" 2>/dev/null |
		awk '/connections in/ && /real seconds/ {print $1 / $4; exit}'
}
PATH_Q="/api/v1/test/blob?size=$SIZE"
n_rps=$(rps "https://127.0.0.1:$NGX/api/v1/test/blob")
h_rps=$(rps "https://127.0.0.1:$HP$PATH_Q")
q_rps=$(rps "https://127.0.0.1:$QP$PATH_Q")
n_hs=$(hs "$NGX")
h_hs=$(hs "$HP")
q_hs=$(hs "$QP")
awk -v n="$n_rps" -v h="$h_rps" -v q="$q_rps" -v nh="$n_hs" -v hh="$h_hs" -v qh="$q_hs" 'BEGIN {
	printf "HTTPS requests/s (16 KiB body, 4 keep-alive connections):\n"
	printf "  nginx %.0f | Hearth host %.0f (ratio %.2f) | Hearth in QEMU %.0f (ratio %.3f)\n", n, h, (n ? h / n : 0), q, (n ? q / n : 0)
	printf "TLS 1.2 full handshakes/s (ECDHE-ECDSA P-256):\n"
	printf "  nginx %.1f | Hearth host %.1f (ratio %.2f) | Hearth in QEMU %.1f (ratio %.3f)\n", nh, hh, (nh ? hh / nh : 0), qh, (nh ? qh / nh : 0)
}'
