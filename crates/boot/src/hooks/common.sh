# repack: helpers shared by the casper, dracut, archiso and miso hooks. repack-boot puts this
# text at the top of each of those hooks when it builds the overlay, so every family fetches,
# checks and joins parts with the same code, tested once.
#
# Contract with the family part that follows:
# - it sets repack_base (URL prefix ending in `/`) before calling repack_fetch_all; a part
#   listed by name is fetched from there, a part listed by its full http:// or https:// URL
#   (a byte-identical part an earlier release published) from that URL;
# - it defines repack_get URL: download URL to standard output, following redirects,
#   non-zero on any transport or HTTP error;
# - it mounts nothing itself: repack_mount_tmpfs sizes the tmpfs from the baked list.
# Every name starts with repack_, so sourcing this into a family's own shell (archiso and
# miso source their hooks into /init) changes none of the family's variables. POSIX sh only:
# busybox ash, dash and bash all run it. Needs: ls, mkdir, rm, dd, sleep, mount, umount, and
# one of sha256sum, `busybox sha256sum` or `openssl dgst`.

repack_list=/etc/repack/rootfs.list
repack_failed=""

# The one failure line. Families send their own output to log files that reach the console
# late or never (casper.log, boot.log, the journal), so it goes to the console itself.
repack_fail ()
{
	repack_failed=1
	for repack_out in /dev/console /dev/kmsg
	do
		if [ -w "${repack_out}" ] && echo "repack: $*" >> "${repack_out}" 2>/dev/null
		then
			return 1
		fi
	done
	echo "repack: $*" >&2
	return 1
}

# Where the kernel takes SysRq requests (`c` crashes it). Every family's kernel has magic
# SysRq built in, and writes here are allowed whatever kernel.sysrq says.
repack_sysrq=/proc/sysrq-trigger

# The one failure line, then the end of this boot. After a hook failure no family may go on
# searching other media, prompting or booting something else, and each family's own fatal
# path ends at a prompt: casper asks "Attempt interactive netboot from a URL?" whatever
# panic= says; mkinitcpio always starts launch_interactive_shell; initramfs-tools' panic and
# dracut's emergency shell prompt unless configured otherwise. Hooks run as child processes
# (casper's premount scripts, dracut's netroot handler) cannot stop their parent at all.
# A kernel panic stops every family alike: the console keeps the line and shows the panic,
# and the kernel's own `panic=N` reboots after N seconds (negative: at once; absent: the
# machine stays halted there, never at a prompt).
repack_fatal ()
{
	repack_fail "$@"
	repack_stop
}

# The end of this boot after a failure whose line is already printed (see repack_fatal).
repack_stop ()
{
	repack_fail "stopping the boot with a kernel panic (panic=N on the kernel command line reboots)"
	echo c 2>/dev/null > "${repack_sysrq}"
	# No SysRq: PID 1 ending panics the kernel too (mkinitcpio and initramfs-tools run hooks
	# in PID 1's shell); anywhere else, halt here rather than fall through.
	if [ "$$" = 1 ]
	then
		exit 1
	fi
	while :
	do
		sleep 3600
	done
}

# Progress, on the console like a failure line (a download of gigabytes is worth seeing) and
# in the family's own log.
repack_log ()
{
	for repack_out in /dev/console /dev/kmsg
	do
		if [ -w "${repack_out}" ] && echo "repack: $*" >> "${repack_out}" 2>/dev/null
		then
			break
		fi
	done
	echo "repack: $*"
}

# Sets repack_total and repack_count from the list.
repack_sizes ()
{
	repack_total=0
	repack_count=0
	while read -r repack_file repack_part repack_size repack_sha256 <&3
	do
		repack_total=$((repack_total + repack_size))
		repack_count=$((repack_count + 1))
	done 3< "${repack_list}"
}

# Room above the images in the tmpfs: page rounding of the image files and a page for each of
# the few small files of the fetch (a status, and two parts' end sizes and digests). Parts are written straight onto the end of their image, so nothing else is
# ever held: the boot needs the images' size in RAM, not the images plus a part.
repack_slack=1048576

# Mounts a tmpfs at $1 with room for every image and repack_slack.
repack_mount_tmpfs ()
{
	repack_sizes
	repack_bytes=$((repack_total + repack_slack))
	mkdir -p "$1"
	if ! mount -t tmpfs -o "size=${repack_bytes},mode=0755" repack "$1"
	then
		repack_fail "cannot mount a tmpfs of ${repack_bytes} bytes at" "$1"
		return 1
	fi
	repack_log "fetching ${repack_total} bytes in ${repack_count} part(s) from ${repack_base}"
}

# The size of file $1 in bytes (ls is in every initrd; wc and stat are not in dracut's).
repack_size_of ()
{
	repack_ls=$(ls -ln "$1") || return 1
	# shellcheck disable=SC2086
	set -- ${repack_ls}
	echo "$5"
}

# Picks repack_hasher: the sha256 of standard input (its first word is the hex digest), with
# whichever tool this initrd has. Each is tried by running it: busybox sh's `command -v`
# also names applets the binary has but the initrd never linked. Returns 1 when none works.
repack_pick_hasher ()
{
	repack_hasher=""
	for repack_tool in "sha256sum" "busybox sha256sum" "openssl dgst -sha256 -r"
	do
		# shellcheck disable=SC2086
		if ${repack_tool} < /dev/null > /dev/null 2>&1
		then
			repack_hasher=${repack_tool}
			return 0
		fi
	done
	return 1
}

# Centiseconds since boot, empty where /proc is not mounted.
repack_now ()
{
	[ -r /proc/uptime ] || return 0
	read -r repack_uptime repack_idle < /proc/uptime || return 0
	case "${repack_uptime}" in
		*.??) echo "${repack_uptime%.*}${repack_uptime#*.}" ;;
	esac
}

# Prints the bytes a download appends to image $1 from offset $2 on, in blocks of 1 MiB read
# back from the tmpfs (RAM, no copy kept) while they land, until file $3 holds the image's
# size at the end of that download; then the rest up to that size and not a byte more (the
# next part may already be landing behind it). Standard input must be image $1: every dd
# reads on from where the last one stopped, so offsets need no alignment (the default part
# size, netboot.xyz's 2097151999 bytes, is odd).
repack_chase ()
{
	dd bs=1 skip="$2" count=0 2> /dev/null || return 1
	repack_done=$2
	while :
	do
		# The size first, then the end: a size taken while the end was not yet written
		# holds no byte of the next part.
		repack_seen=$(repack_size_of "$1") || return 1
		if [ -s "$3" ]
		then
			read -r repack_seen < "$3" || return 1
			break
		fi
		# At least 8 MiB per dd and two looks a second: each look starts processes, which
		# cost the download CPU time on a small client.
		repack_blocks=$(((repack_seen - repack_done) / 1048576))
		if [ "${repack_blocks}" -ge 8 ]
		then
			dd bs=1048576 count="${repack_blocks}" 2> /dev/null || return 1
			repack_done=$((repack_done + repack_blocks * 1048576))
		else
			sleep 0.5 2> /dev/null || sleep 1
		fi
	done
	repack_left=$((repack_seen - repack_done))
	if [ "${repack_left}" -ge 1048576 ]
	then
		dd bs=1048576 count=$((repack_left / 1048576)) 2> /dev/null || return 1
	fi
	if [ $((repack_left % 1048576)) -gt 0 ]
	then
		dd bs=$((repack_left % 1048576)) count=1 2> /dev/null || return 1
	fi
}

# Starts appending the part at URL $1 to image $2, whose size is $3 bytes, and hashing it:
# the download tool writes every byte once, onto the end of the image, and the hasher reads
# the new bytes back from the image while they land (on another CPU when there is one; a
# pipe through tee would move every byte in small writes three times). The hasher ends once
# file $4 holds the image's size after the download (repack_end_download writes it) and
# leaves the digest in file $5. Sets repack_writer and repack_hashing to their processes.
repack_start_part ()
{
	rm -f "${repack_status}" "$4" "$5"
	{
		repack_get "$1" >> "$2" || echo failed > "${repack_status}"
	} &
	repack_writer=$!
	{
		# shellcheck disable=SC2086
		repack_chase "$2" "$3" "$4" < "$2" | ${repack_hasher} > "$5"
	} &
	repack_hashing=$!
}

# Waits for the download repack_start_part started onto image $1, writes the image's size
# into file $2 (which ends its hasher) and sets repack_got to the bytes that arrived after
# offset $3. Returns 1 when the download failed.
repack_end_download ()
{
	wait "${repack_writer}"
	repack_end_size=$(repack_size_of "$1")
	echo "${repack_end_size:-0}" > "$2"
	repack_got=$((${repack_end_size:-0} - $3))
	[ ! -e "${repack_status}" ]
}

# Checks the digest of the part whose hasher is still running, if there is one: waits for
# it, compares, removes its files. After a failure it only waits, so the hook prints one line
# and leaves nothing running.
repack_check_pending ()
{
	[ -n "${repack_pending_url}" ] || return 0
	wait "${repack_pending_hashing}"
	repack_hash=""
	read -r repack_hash repack_rest 2> /dev/null < "${repack_pending_sum}"
	rm -f "${repack_pending_sum}" "${repack_pending_end}"
	repack_checked_url=${repack_pending_url}
	repack_pending_url=""
	[ -z "${repack_failed}" ] || return 1
	if [ "${repack_hash}" != "${repack_pending_sha256}" ]
	then
		repack_fail "sha256 mismatch (got ${repack_hash:-nothing})" "${repack_checked_url}"
		return 1
	fi
}


# The URL of part $1 as the list gives it: a full URL as it is, a name under ${repack_base}.
repack_part_url ()
{
	case "$1" in
		http://*|https://*) echo "$1" ;;
		*) echo "${repack_base}$1" ;;
	esac
}

# Downloads every part in the list into directory $1, each straight onto the end of its image
# $1/<image name>, and checks each part's size as it ends and its sha256 while the next part
# downloads (each part is hashed as it lands; what is left of that when its download ends
# runs beside the next download instead of before it). A bad part stops the fetch at the part
# after it at the latest. On failure: prints the one line, waits for what it started,
# removes every image it wrote, returns 1.
repack_fetch_all ()
{
	repack_dir=$1
	repack_status="${repack_dir}/.repack-status"
	repack_written=""
	repack_pending_url=""
	repack_number=0
	repack_started=$(repack_now)
	if ! repack_pick_hasher
	then
		repack_fail "no sha256 tool in this initrd, cannot check" "${repack_base}"
	fi
	while [ -z "${repack_failed}" ] && read -r repack_file repack_part repack_size repack_sha256 <&3
	do
		repack_url=$(repack_part_url "${repack_part}")
		repack_image="${repack_dir}/${repack_file}"
		if [ ! -e "${repack_image}" ]
		then
			: > "${repack_image}"
			repack_written="${repack_written} ${repack_file}"
		fi
		repack_offset=$(repack_size_of "${repack_image}")
		repack_number=$((repack_number + 1))
		repack_sum="${repack_dir}/.repack-sum-${repack_number}"
		repack_end="${repack_dir}/.repack-end-${repack_number}"
		repack_start_part "${repack_url}" "${repack_image}" "${repack_offset}" \
			"${repack_end}" "${repack_sum}"
		# The part before this one finishes hashing while this one downloads.
		repack_check_pending
		if ! repack_end_download "${repack_image}" "${repack_end}" "${repack_offset}"
		then
			[ -n "${repack_failed}" ] || repack_fail "download failed" "${repack_url}"
		elif [ "${repack_got}" != "${repack_size}" ]
		then
			[ -n "${repack_failed}" ] ||
				repack_fail "size mismatch (${repack_got} bytes, expected ${repack_size})" "${repack_url}"
		fi
		repack_pending_url=${repack_url}
		repack_pending_sha256=${repack_sha256}
		repack_pending_hashing=${repack_hashing}
		repack_pending_sum=${repack_sum}
		repack_pending_end=${repack_end}
	done 3< "${repack_list}"
	repack_check_pending
	rm -f "${repack_status}"
	if [ -n "${repack_failed}" ]
	then
		for repack_file in ${repack_written}
		do
			rm -f "${repack_dir}/${repack_file}"
		done
		return 1
	fi
	repack_finished=$(repack_now)
	if [ -n "${repack_started}" ] && [ -n "${repack_finished}" ]
	then
		repack_took=$((repack_finished - repack_started))
		repack_log "root filesystem verified in $((repack_took / 100)).$(printf '%02d' $((repack_took % 100))) s"
	else
		repack_log "root filesystem verified"
	fi
	return 0
}
