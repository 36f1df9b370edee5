#!/usr/bin/env bash
# Build the package tarball from a clean copy of the tree and run
# R CMD check --as-cran on it. Installs what is missing first: the R
# packages (tools/install-deps.sh) and the TeX packages for the PDF manual.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$repo_root/tools/install-deps.sh"

tex_packages="texlive-latex-base texlive-latex-recommended texlive-fonts-recommended texlive-fonts-extra texinfo"
if ! command -v pdflatex >/dev/null 2>&1 || ! kpsewhich inconsolata.sty >/dev/null 2>&1; then
  echo "check: installing TeX for the PDF manual"
  apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $tex_packages >/dev/null
fi

work_dir=$(mktemp -d "${TMPDIR:-/tmp}/bijectors-check.XXXXXX")
trap 'rm -rf "$work_dir"' EXIT
tar -C "$repo_root" --exclude=./.git --exclude='./*.Rcheck' \
  --exclude='./*.tar.gz' -cf - . | tar -C "$work_dir" -xf - --one-top-level=bijectors
rm -f "$work_dir"/bijectors/src/*.o "$work_dir"/bijectors/src/*.so

cd "$work_dir"
R CMD build bijectors
# The remote incoming checks need the network, which this machine may lack.
_R_CHECK_CRAN_INCOMING_REMOTE_=false R CMD check --as-cran bijectors_*.tar.gz
if grep -qE "^Status: .*(ERROR|WARNING)" bijectors.Rcheck/00check.log; then
  exit 1
fi
