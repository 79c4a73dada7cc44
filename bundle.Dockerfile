# Generated from deploy/ by scripts/olm-bundle.ts: do not edit, run `make bundle`.
# The bundle image: docker build -f bundle.Dockerfile -t <bundle image> .   (`make bundle-build`)
FROM scratch
LABEL operators.operatorframework.io.bundle.mediatype.v1=registry+v1
LABEL operators.operatorframework.io.bundle.manifests.v1=manifests/
LABEL operators.operatorframework.io.bundle.metadata.v1=metadata/
LABEL operators.operatorframework.io.bundle.package.v1=hestia-operator
LABEL operators.operatorframework.io.bundle.channels.v1=alpha
LABEL operators.operatorframework.io.bundle.channel.default.v1=alpha
COPY bundle/manifests /manifests/
COPY bundle/metadata /metadata/
