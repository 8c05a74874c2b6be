#!/bin/sh
# Runs a command with a private view of /etc (an overlay whose upper layer
# holds the preview configuration, so the real mkosi-initrd reads exactly what
# `initrd-wizard install` would write, and the host's /etc never changes) and
# a private /var/tmp (the build's own directory).
# Called inside `unshare --mount --propagation private`; arguments are passed
# through as argv, never interpreted by a shell.
set -eu
upper=$1
work=$2
vartmp=$3
shift 3
mount -t overlay initrd-wizard-preview -o "lowerdir=/etc,upperdir=$upper,workdir=$work" /etc
# A private /var/tmp: mkosi puts its workspace there, and it goes away with the build's own directory.
mount --bind "$vartmp" /var/tmp
exec "$@"
