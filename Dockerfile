# Ferry's image: ferry-operator, ferry-agent and ferryctl (also as kubectl-ferry)
# on Debian 12. The base is built locally from Debian's archive by
# scripts/base-image, so building needs no registry; `make image` does both.
ARG BASE=ferry/debian:bookworm

FROM ${BASE} AS build
WORKDIR /src
# The packages first, in a layer of their own, so source edits do not reinstall them.
COPY scripts/bootstrap scripts/bootstrap
RUN FERRY_SKIP_CLUSTER_BUILD=1 scripts/bootstrap && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DFERRY_BUILD_TESTS=OFF \
 && cmake --build /build --target ferry-operator ferry-agent ferryctl \
 && mkdir -p /out/bin \
 && install -m 0755 /build/bin/ferry-operator /build/bin/ferry-agent /build/bin/ferryctl /out/bin/
# The runtime packages are the ones owning the shared libraries the binaries load,
# so the list follows the code instead of going stale. libc6 ships under /lib
# while ldd may answer /usr/lib (or the reverse), hence both spellings.
RUN set -e; \
    for lib in $(ldd /out/bin/* | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u); do \
      dpkg -S "$lib" 2>/dev/null || dpkg -S "$(realpath "$lib")" 2>/dev/null || \
      dpkg -S "${lib#/usr}" 2>/dev/null || { echo "no package owns $lib" >&2; exit 1; }; \
    done >/tmp/owners; \
    cut -d: -f1 /tmp/owners | sort -u >/out/runtime-packages; \
    cat /out/runtime-packages

FROM ${BASE}
COPY --from=build /out/runtime-packages /usr/share/ferry/runtime-packages
# ca-certificates: repositories and webhooks may be served over public HTTPS.
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends \
      ca-certificates $(cat /usr/share/ferry/runtime-packages) \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && groupadd --gid 65532 ferry \
 && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin --no-log-init ferry
COPY --from=build /out/bin/ /usr/local/bin/
RUN ln -s ferryctl /usr/local/bin/kubectl-ferry \
 && ! ldd /usr/local/bin/ferry-operator /usr/local/bin/ferry-agent /usr/local/bin/ferryctl | grep 'not found'
USER 65532:65532
CMD ["ferry-operator"]
