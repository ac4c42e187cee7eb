#!/usr/bin/env bash
# What the browser tests need on a fresh Debian machine: Debian's chromium (driven by Playwright through its
# executable_path; no browser is downloaded) and a CJK font so Chinese screens render. Idempotent.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
fc-list 2>/dev/null | grep -qiE "wenquanyi|noto sans cjk|noto serif cjk" || need+=(fonts-wqy-zenhei)
[ ${#need[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing ${need[*]} for the browser tests ..."
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
