# Multi-stage build: compile Keel with cargo (SQLite and libpq are built from source by their
# crates' `bundled` features), then run it on a slim base as an unprivileged user.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p keel && strip target/release/keel

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/keel --create-home keel
COPY --from=build /src/target/release/keel /usr/local/bin/keel
USER keel
WORKDIR /var/lib/keel
ENV KEEL_BIND=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD ["/bin/sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080"]
ENTRYPOINT ["keel"]
CMD ["serve"]
