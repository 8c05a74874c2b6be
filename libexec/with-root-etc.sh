#!/bin/sh
# Runs a command with the /etc of another root laid over the host's /etc
# (read-only overlay, the root's files on top), so kernel-install and the
# mkosi-initrd it calls read that root's configuration. Called inside
# `unshare --mount --propagation private`; arguments pass through as argv.
set -eu
etc=$1
shift
mount -t overlay initrd-wizard-root -o "lowerdir=$etc:/etc" /etc
exec "$@"
