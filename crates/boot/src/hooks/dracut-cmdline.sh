#!/bin/sh
# repack hook for dracut (livenet): <hookdir>/cmdline/29-repack-livenet.sh.
#
# dracut sources every cmdline hook in one shell, in name order; livenet's own
# 29-parse-livenet.sh comes just before this one and turns `root=live:<url>` into
# netroot=livenet:<url>, so that /sbin/netroot runs /sbin/livenetroot once the network is up.
# This hook renames the scheme to `repack:`; /sbin/netroot then runs /sbin/repackroot (added
# by repack, nothing replaced), which fetches every part listed in /etc/repack/rootfs.list,
# checks and joins them, and hands the image to dmsquash-live-root as livenetroot would.

case "${netroot:-}" in
	livenet:*)
		netroot="repack:${netroot#livenet:}"
		info "repack: fetching the root image and its parts listed in /etc/repack/rootfs.list"
		;;
esac
