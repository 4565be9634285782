#!/bin/sh
# seeds.sh — (re)writes the seed corpora fuzz/corpus/NAME/ from the /proc fixtures in
# tests/fixtures (captured from a real kernel, or crafted after older kernels' formats), from
# this machine's /proc (a few live files, copied as they are), and from the crafted inputs below.
# Run from anywhere; the output is committed, so the seeds stay the same from run to run.
set -eu
cd "$(dirname "$0")/.."
F=tests/fixtures
C=fuzz/corpus
rm -rf "$C"
for d in stat status statm btime smaps_rollup smaps cgroup config pattern webconfig expo_label expo_series accept; do
	mkdir -p "$C/$d"
done

seed() { # seed NAME FILE: copies FILE in (named after its origin)
	cp "$2" "$C/$1/$(echo "$2" | tr '/' '_')"
}
live() { # live NAME PROCFILE TAG: a copy of a live /proc file, if readable
	cat "$2" >"$C/$1/live_$3" 2>/dev/null || rm -f "$C/$1/live_$3"
}

for f in $F/captured/*.stat $F/proc/*/stat; do seed stat "$f"; done
for f in $F/captured/*.status $F/crafted/status_* $F/proc/*/status; do seed status "$f"; done
for f in $F/captured/*.statm; do seed statm "$f"; done
for f in $F/captured/proc_stat $F/proc/stat; do seed btime "$f"; done
for f in $F/captured/*.smaps_rollup $F/crafted/smaps_rollup_* $F/proc/*/smaps_rollup; do
	seed smaps_rollup "$f"
done
for f in $F/captured/*.cgroup $F/proc/*/cgroup; do seed cgroup "$f"; done
for p in self 1; do
	live stat /proc/$p/stat $p
	live status /proc/$p/status $p
	live statm /proc/$p/statm $p
	live smaps_rollup /proc/$p/smaps_rollup $p
	live cgroup /proc/$p/cgroup $p
done
live btime /proc/stat stat

# smaps: 8 bytes of chunk-size seed, then the text (see fuzz_smaps.c); two seeds per file
for f in $F/captured/*.smaps $F/crafted/smaps_kinds $F/proc/*/smaps; do
	# seed bytes in octal (dash's printf has no \x): chunks of 1..64 bytes, and a mix with
	# large ones and a callback that stops the parse (0xf0 in the first byte)
	{ printf '\001\000\000\000\000\000\000\000'; cat "$f"; } >"$C/smaps/$(echo "$f" | tr '/' '_')_a"
	{ printf '\360\245\245\245\245\245\245\245'; cat "$f"; } >"$C/smaps/$(echo "$f" | tr '/' '_')_b"
done

# a name longer than a line may be (the kernel prints it whole, however deep the file), and
# names with the kernel's escape for a newline
{
	printf '\007\000\000\000\000\000\000\000'
	printf '7f0000000000-7f0000001000 r--p 00000000 08:01 42                         /'
	head -c 20000 /dev/zero | tr '\0' 'd'
	printf '\nRss:                   4 kB\n'
	printf '7f0000001000-7f0000002000 r--s 00000000 08:01 43                         /a\\012b\\01\\\n'
	printf 'Pss:                   4 kB\n'
} >$C/smaps/long_line


printf '0::/system.slice/nginx.service\n' >$C/cgroup/v2_service
printf '0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-x.scope\n' >$C/cgroup/v2_user
printf '0::/system.slice/system-getty.slice/getty@tty1.service\n' >$C/cgroup/v2_instance
printf '0::/system.slice/_a.service\n0::/\n' >$C/cgroup/v2_escaped
printf '12:pids:/\n1:name=systemd:/system.slice/cron.service\n0::/\n' >$C/cgroup/v1_hybrid
# ... and of container runtimes and the kubelet (see src/cgroup.c)
id=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
uid=0b0b0b0b-1111-2222-3333-444444444444
uid_=$(echo $uid | tr - _)
printf '0::/system.slice/docker-%s.scope\n' $id >$C/cgroup/docker_systemd
printf '9:name=systemd:/docker/%s\n4:memory:/docker/%s\n0::/\n' $id $id >$C/cgroup/docker_cgroupfs
printf '0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice/cri-containerd-%s.scope\n' \
	$uid_ $id >$C/cgroup/k8s_systemd
printf '4:memory:/kubepods/besteffort/pod%s/crio-%s\n1:cpu:/\n' $uid $id >$C/cgroup/k8s_cgroupfs
printf '0::/../../kubepods-pod%s.slice/crio-%s.scope\n' $uid_ $id >$C/cgroup/k8s_namespace
printf '0::/machine.slice/libpod-%s.scope/container\n' $id >$C/cgroup/podman
printf '0::/machine.slice/machine-my\\x2dbox.scope/payload\n0::/lxc.payload.web1\n' >$C/cgroup/machine_lxc

# configuration: 0x00 + a file, 0x01 + NUL-separated command-line arguments
{ printf '\000'; cat config/procmem-exporter.conf; } >$C/config/file_default
printf '\000interval = 1.5s\nsmaps = rollup\nsmaps_max_rss = 512M\ntop = 0\n# c\ninclude = (nginx|php-fpm.*)\nweb_listen_address = [::1]:9470\ngzip_level = 9\n' >$C/config/file_options
printf '\000[section]\nfoo = bar\n' >$C/config/file_section
printf '\001--interval\0005\000--smaps\000off\000--top\00010\000--exclude\000a|b' >$C/config/argv_options
printf '\001--web.listen-address=:0\000--smaps-budget=500ms\000--min-rss\0001G\000--once' >$C/config/argv_equals
printf '\001--tls-cert\000/etc/hostname\000--check-config' >$C/config/argv_tls

# --include/--exclude patterns: the pattern, NUL, then NUL-separated comms (see fuzz_pattern.c)
printf 'nginx|php-fpm.*\000nginx\000php-fpm7.4\000xnginx' >$C/pattern/names
printf 'kworker/[0-9]+:[0-9]+H?|[[:alpha:]_]+\\d{1,3}\000kworker/0:1H\000abc12' >$C/pattern/classes
printf '(?i)(?!bash)[^\\x00-\\x1f]{2,}|\\Qa.b\\E\000x) (y\000\377\303 z\000a.b\000BASH' >$C/pattern/hostile_comm
printf '(a|ab)(c|bcd)(d*)\000abcd' >$C/pattern/alternation

# web configuration files (exporter-toolkit's YAML): the example, every section, and the YAML
# features it refuses (an alias, a tag, a second document)
seed webconfig config/web-config.yml
printf 'tls_server_config:\n  cert_file: tls/server.crt\n  key_file: /etc/ssl/server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ../ca.pem\n  min_version: TLS13\n  max_version: TLS13\n  prefer_server_cipher_suites: true\nhttp_server_config:\n  http2: false\n  headers:\n    X-Frame-Options: deny\n    X-Content-Type-Options: nosniff\n    Content-Security-Policy: "default-src \047none\047"\nbasic_auth_users:\n  prom: $2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze\n' >$C/webconfig/full
printf 'tls_server_config: {cert_file: c, key_file: k, client_auth_type: RequestClientCert}\nbasic_auth_users: {}\n' >$C/webconfig/flow
printf 'a: &x [1, 2]\nb: *x\n---\ntls_server_config: !!map {}\n' >$C/webconfig/refused
printf '' >$C/webconfig/empty

# label values: what comm, exe and mapping paths can hold
printf 'nginx' >$C/expo_label/plain
printf 'a"b\\c\nd' >$C/expo_label/escapes
printf 'x) (y\n"\377\303 z)' >$C/expo_label/weird_comm
printf 'k\303\244se\342\202\254\360\237\230\200' >$C/expo_label/utf8
printf 'cut\342\202' >$C/expo_label/cut3
printf '\200\277\300\301\365\377\355\240\200\364\220\200\200\340\200' >$C/expo_label/invalid
printf 'nul\000byte' >$C/expo_label/nul

# a snapshot to render (see fuzz_expo_series.c): full mode, two processes, libc mapped by both
printf '\002\001\003\002\003\005\000\000\000\000\001\004bash\004root\000\011/bin/bash\377\377\377\377\000\000\000\020\377\377\377\377\000\000\000\010\000\000\000\001\000\000\000\001\000\000\000\001\000\000\000\001\003\011\000\000\000\000\001\004sshd\004root\013ssh.service\016/usr/sbin/sshd\377\377\377\377\000\000\000\020\377\377\377\377\000\000\000\010\000\000\000\001\000\000\000\001\000\000\000\001\000\000\000\001\002\201\000\001\022/usr/lib/libc.so.6(\201\001\001\022/usr/lib/libc.so.6(\024\001\002\000\000\000\005\010' >$C/expo_series/plain

# Accept, then NUL, then Accept-Encoding, as scrapers send them
printf 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\000gzip' >$C/accept/prometheus
printf 'text/plain;version=0.0.4;q=1,*/*;q=0.1\000gzip, deflate' >$C/accept/old_prometheus
printf '*/*\000identity, *;q=0' >$C/accept/curl_refuse
printf 'application/openmetrics-text; version="1.0.0"; q=0.9, text/plain; q=0.9\000x-gzip;q=0.001' >$C/accept/quoted
printf '\000gzip;q=0, *' >$C/accept/gzip_refused

for d in "$C"/*; do echo "$(ls "$d" | wc -l) seeds in $d"; done
