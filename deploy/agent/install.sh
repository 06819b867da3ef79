#!/bin/sh
# install.sh installs the Nephoran O2 IMS edge agent on a node: the o2ims
# binary, /etc/o2ims/agent.env and the systemd unit o2ims-agent.service,
# enabled and started. It downloads nothing: the provisioning system (cloud
# user data, a kickstart, an image build) brings the binary and passes the
# settings, as options or in the environment:
#
#   install.sh --binary ./o2ims --server https://ims.example.net:8443 \
#     --bootstrap-token abcdef.0123456789abcdef --ca-hash sha256:… \
#     [--pool POOL] [--site SITE] [--node-name NAME] [--root DIR]
#
#   option              environment
#   --binary            O2IMS_AGENT_BINARY
#   --server            O2IMS_SERVER           (required)
#   --bootstrap-token   O2IMS_BOOTSTRAP_TOKEN  (required until enrolled)
#   --ca-hash           O2IMS_CA_HASH
#   --pool              O2IMS_POOL
#   --site              O2IMS_SITE
#   --node-name         O2IMS_NODE_NAME
#   --root              DESTDIR                (install under DIR; default /)
#
# Options win over the environment. The token and the CA hash are printed
# by "o2ims agent token create" on the server. A node already enrolled (its
# identity in /var/lib/o2ims-agent) needs no token. Running it again with
# the same settings changes nothing; with new ones it rewrites them and
# restarts the agent. systemctl is used only when systemd runs and the
# root is /; otherwise (an image being built, --root) the unit is enabled
# by its symlink and starts on the next boot.
set -eu

prog=${0##*/}
unit_name=o2ims-agent.service

die() {
	echo "$prog: $*" >&2
	exit 1
}

usage() {
	sed -n '2,/^set -eu/{/^set -eu/d;s/^# \{0,1\}//;p;}' "$0"
}

binary=${O2IMS_AGENT_BINARY:-}
server=${O2IMS_SERVER:-}
token=${O2IMS_BOOTSTRAP_TOKEN:-}
ca_hash=${O2IMS_CA_HASH:-}
pool=${O2IMS_POOL:-}
site=${O2IMS_SITE:-}
node_name=${O2IMS_NODE_NAME:-}
root=${DESTDIR:-/}

while [ $# -gt 0 ]; do
	opt=$1
	case $opt in
	--*=*)
		val=${opt#*=}
		opt=${opt%%=*}
		;;
	-h | --help)
		usage
		exit 0
		;;
	--*)
		[ $# -ge 2 ] || die "$opt needs a value"
		val=$2
		shift
		;;
	*) die "unexpected argument '$opt' (see $prog --help)" ;;
	esac
	shift
	case $opt in
	--binary) binary=$val ;;
	--server) server=$val ;;
	--bootstrap-token) token=$val ;;
	--ca-hash) ca_hash=$val ;;
	--pool) pool=$val ;;
	--site) site=$val ;;
	--node-name) node_name=$val ;;
	--root) root=$val ;;
	*) die "unknown option $opt (see $prog --help)" ;;
	esac
done

root=${root%/}
bin_path=$root/usr/local/bin/o2ims
env_dir=$root/etc/o2ims
env_file=$env_dir/agent.env
unit_dir=$root/etc/systemd/system
unit_file=$unit_dir/$unit_name
state_dir=$root/var/lib/o2ims-agent

# Values go into an environment file systemd reads: one line each, no
# quoting needed, so nothing that would need it is accepted.
check_value() {
	case $2 in
	*[!A-Za-z0-9._:/@%+=,~-]*) die "$1 '$2' holds characters other than letters, digits and ._:/@%+=,~-" ;;
	esac
}

[ -n "$server" ] || die "the server URL is required: --server https://<host>:<port> (or O2IMS_SERVER), the IMS's --agent-listen"
case $server in
https://?*) ;;
*) die "the server URL must be https://<host>:<port>, not '$server'" ;;
esac
check_value --server "$server"
if [ -z "$token" ] && [ ! -s "$state_dir/identity.pem" ]; then
	die "the bootstrap token is required to enrol this node: --bootstrap-token <id>.<secret> (or O2IMS_BOOTSTRAP_TOKEN), printed by 'o2ims agent token create'"
fi
if [ -n "$token" ]; then
	printf '%s\n' "$token" | grep -Eq '^[a-z0-9]{6}\.[a-z0-9]{16}$' ||
		die "the bootstrap token must look like abcdef.0123456789abcdef (6 and 16 lower-case letters or digits)"
	if [ -z "$ca_hash" ] && [ ! -s "$state_dir/ca.pem" ]; then
		die "the CA hash is required with a bootstrap token: --ca-hash sha256:<hex> (or O2IMS_CA_HASH), printed with the token"
	fi
fi
if [ -n "$ca_hash" ]; then
	printf '%s\n' "$ca_hash" | grep -Eq '^sha256:[0-9a-f]{64}$' ||
		die "the CA hash must be sha256:<64 lower-case hex digits>, not '$ca_hash'"
fi
check_value --pool "$pool"
check_value --site "$site"
check_value --node-name "$node_name"

systemd_running=false
if [ "$root" = "" ] && [ -d /run/systemd/system ]; then
	systemd_running=true
fi

if [ -z "$binary" ]; then
	[ -x "$bin_path" ] || die "the o2ims binary is required: --binary PATH (or O2IMS_AGENT_BINARY)"
else
	[ -f "$binary" ] || die "the binary $binary does not exist"
fi

changed=false

# put FILE MODE: replaces FILE with standard input, atomically, when its
# content or mode differs.
put() {
	tmp=$(mktemp "$1.XXXXXX")
	cat >"$tmp"
	chmod "$2" "$tmp"
	if [ -f "$1" ] && cmp -s "$tmp" "$1" && [ "$(stat -c %a "$1")" = "${2#0}" ]; then
		rm -f "$tmp"
		return 0
	fi
	mv -f "$tmp" "$1"
	changed=true
	echo "$prog: wrote ${1#"$root"}"
}

# Files are created 0600 (mktemp) and then given their mode.
umask 022
mkdir -p "$root/usr/local/bin" "$env_dir" "$unit_dir/multi-user.target.wants"

if [ -n "$binary" ]; then
	put "$bin_path" 0755 <"$binary"
fi

{
	echo "# The o2ims edge agent's settings, written by install.sh: each"
	echo "# O2IMS_<FLAG> is a flag of \"o2ims agent\" (see o2ims agent --help)."
	echo "O2IMS_SERVER=$server"
	[ -z "$token" ] || echo "O2IMS_BOOTSTRAP_TOKEN=$token"
	[ -z "$ca_hash" ] || echo "O2IMS_CA_HASH=$ca_hash"
	[ -z "$pool" ] || echo "O2IMS_POOL=$pool"
	[ -z "$site" ] || echo "O2IMS_SITE=$site"
	[ -z "$node_name" ] || echo "O2IMS_NODE_NAME=$node_name"
} | put "$env_file" 0600

put "$unit_file" 0644 <<'UNIT'
# The Nephoran O2 IMS edge agent (o2ims agent). deploy/agent/install.sh
# installs it with the binary and /etc/o2ims/agent.env, which names the
# server and, until the node has enrolled, the bootstrap token and CA hash
# (O2IMS_<FLAG> variables: every flag of "o2ims agent" can be given so).
#
# The agent reads /proc, /sys and /etc to describe the node and writes only
# its state directory (key, certificate, CA), which systemd creates as
# /var/lib/o2ims-agent. It keeps retrying an unreachable server by itself;
# it exits only when going on is pointless (token refused, server not
# trusted, certificate revoked), and systemd restarts it with a growing
# delay in case the operator fixes the environment file meanwhile.
[Unit]
Description=Nephoran O2 IMS edge agent
Documentation=https://github.com/nephoran/o2ims#edge-nodes-o2ims-agent
Wants=network-online.target
After=network-online.target
# Never give up restarting: the delay below grows instead.
StartLimitIntervalSec=0

[Service]
Type=exec
EnvironmentFile=/etc/o2ims/agent.env
ExecStart=/usr/local/bin/o2ims agent --state-dir=/var/lib/o2ims-agent
Restart=on-failure
RestartSec=5s
# Exponential backoff from RestartSec to RestartMaxDelaySec (systemd 254
# and later; older versions ignore these keys and restart every 5s).
RestartSteps=8
RestartMaxDelaySec=10min
TimeoutStopSec=30s

StateDirectory=o2ims-agent
StateDirectoryMode=0700
UMask=0077

# Hardening: root without capabilities (so that root-only files such as
# /sys/class/dmi/id/product_serial stay readable), a read-only system.
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
PrivateMounts=yes
ReadOnlyPaths=/proc /sys
ProtectProc=invisible
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
RemoveIPC=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
SystemCallErrorNumber=EPERM

[Install]
WantedBy=multi-user.target
UNIT

if $systemd_running; then
	systemctl daemon-reload
	systemctl enable "$unit_name"
	if $changed; then
		systemctl restart "$unit_name"
	else
		systemctl start "$unit_name"
	fi
	echo "$prog: $unit_name enabled and running"
else
	link=$unit_dir/multi-user.target.wants/$unit_name
	if [ "$(readlink "$link" 2>/dev/null || true)" != "/etc/systemd/system/$unit_name" ]; then
		ln -sfn "/etc/systemd/system/$unit_name" "$link"
		echo "$prog: enabled $unit_name"
	fi
	echo "$prog: systemd is not running here${root:+ (installed under $root)}: the agent starts on the next boot"
fi
