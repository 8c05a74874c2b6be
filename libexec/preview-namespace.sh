#!/bin/sh
# Runs a command with a private view of /etc: an overlay whose upper layer
# holds the preview configuration, so the real mkosi-initrd reads exactly what
# `initrd-wizard install` would write, and the host's /etc never changes.
# Called inside `unshare --mount --propagation private`; arguments are passed
# through as argv, never interpreted by a shell.
set -eu
upper=$1
work=$2
shift 2
mount -t overlay initrd-wizard-preview -o "lowerdir=/etc,upperdir=$upper,workdir=$work" /etc
exec "$@"
