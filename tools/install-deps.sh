#!/usr/bin/env bash
# Install what building, testing and checking bijectors needs, and only what is
# missing. Safe to run again: when everything is present it prints nothing.
#
# Usage (as root, from anywhere): bash tools/install-deps.sh
set -euo pipefail

r_packages=(cli generics magrittr testthat knitr rmarkdown bench roxygen2 withr Rmpfr future future.apply)
system_tools=(pandoc qpdf)

have_r_package() {
  Rscript -e "quit(status = !requireNamespace('$1', quietly = TRUE))" >/dev/null 2>&1
}

apt_updated=0
apt_update_once() {
  if [ "$apt_updated" -eq 0 ]; then
    echo "install-deps: refreshing the apt package lists"
    apt-get update -qq
    apt_updated=1
  fi
}

apt_install() {
  apt_update_once
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if ! command -v Rscript >/dev/null 2>&1; then
  echo "install-deps: Rscript not found; installing r-base-dev"
  apt_install r-base-dev
fi

missing_r=()
for pkg in "${r_packages[@]}"; do
  have_r_package "$pkg" || missing_r+=("$pkg")
done

for pkg in "${missing_r[@]+"${missing_r[@]}"}"; do
  echo "install-deps: installing R package $pkg"
  debian_name="r-cran-$(printf '%s' "$pkg" | tr '[:upper:]' '[:lower:]')"
  if ! apt_install "$debian_name" || ! have_r_package "$pkg"; then
    echo "install-deps: apt could not provide $pkg; installing it from CRAN"
    Rscript -e "install.packages('$pkg', repos = 'https://cloud.r-project.org', quiet = TRUE)"
  fi
  if ! have_r_package "$pkg"; then
    echo "install-deps: failed to install R package $pkg" >&2
    exit 1
  fi
done

for tool in "${system_tools[@]}"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "install-deps: installing $tool"
    apt_install "$tool"
  fi
done

# OpenBLAS. R's matrix products go through the system BLAS; Debian's default
# is the reference one, several times slower than OpenBLAS for the products
# a flow's networks do. When R uses the reference BLAS, install OpenBLAS and
# make it the system's choice (it then serves every program that uses the
# system BLAS, not only R). BIJECTORS_OPENBLAS=no keeps the reference BLAS.
# Undo: apt-get remove libopenblas0-pthread (or update-alternatives --config
# libblas.so.3-<arch> and liblapack.so.3-<arch>).
r_blas=$(Rscript -e 'cat(extSoftVersion()[["BLAS"]])' 2>/dev/null || true)
case "${BIJECTORS_OPENBLAS:-yes}" in
  no|NO|No|false|FALSE|0)
    case "$r_blas" in
      */blas/libblas*) echo "install-deps: keeping the reference BLAS (BIJECTORS_OPENBLAS=no)" ;;
    esac
    ;;
  *)
    case "$r_blas" in
      */blas/libblas*)
        if command -v apt-get >/dev/null 2>&1 && command -v update-alternatives >/dev/null 2>&1; then
          echo "install-deps: R uses the reference BLAS ($r_blas);"
          echo "install-deps: installing OpenBLAS (libopenblas0-pthread) as the system BLAS,"
          echo "install-deps: for every program on this machine (BIJECTORS_OPENBLAS=no to keep the reference BLAS)"
          apt_install libopenblas0-pthread
          # a selection made by hand earlier would keep the reference BLAS
          for alternative in $(update-alternatives --get-selections |
                                 awk '/^lib(blas|lapack)\.so\.3/ { print $1 }'); do
            update-alternatives --quiet --auto "$alternative"
          done
          echo "install-deps: R's BLAS is now $(Rscript -e 'cat(extSoftVersion()[["BLAS"]])')"
        fi
        ;;
    esac
    ;;
esac
