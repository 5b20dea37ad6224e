# syntax=docker/dockerfile:1
# Build stage: compile better-sqlite3 and the TypeScript sources.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY packages ./packages
COPY src ./src
COPY commands ./commands
COPY bin ./bin
RUN npm ci && npm prune --omit=dev

# Runtime stage: no compilers, non-root, data on a volume.
FROM node:20-bookworm-slim
# The config lives outside the data volume, so mounting a volume at /app/data never hides it.
ENV NODE_ENV=production INFRABOT_DATA_DIR=/app/data INFRABOT_CONFIG=/app/config/infrabot.yaml
# The audit signing key and checkpoint file live outside the data volume (docs/audit.md); mount a volume
# here, or give the key as INFRABOT_AUDIT_KEY from a secret store, so it survives a new container.
ENV INFRABOT_KEY_DIR=/app/keys
# Loopback inside a container reaches nobody: the example config reads the API's host from here.
ENV INFRABOT_HTTP_HOST=0.0.0.0
EXPOSE 18090
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# node_modules/@infrabot/guard links here (npm workspace): the guard package's build and Lua scripts.
COPY --from=build /app/packages/guard/package.json ./packages/guard/package.json
COPY --from=build /app/packages/guard/dist ./packages/guard/dist
COPY --from=build /app/packages/guard/lua ./packages/guard/lua
COPY bin ./bin
COPY package.json ./
COPY data/infrabot.example.yaml ./config/infrabot.yaml
RUN mkdir -p /app/data /app/keys && chown -R node:node /app/data /app/keys && chmod 700 /app/keys
USER node
VOLUME ["/app/data", "/app/keys"]
# Slack/Discord credentials come from the environment; with none set, `start` runs the console on stdin
# (docker run -it). Mount your own config over /app/config/infrabot.yaml.
ENTRYPOINT ["node", "bin/infrabot.js"]
CMD ["start"]
