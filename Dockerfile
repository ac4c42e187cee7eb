# One image for every EstateFlow process; docker-compose.yml picks the command:
#   API (default):  uvicorn api.main:app --host 0.0.0.0 --port 8000
#   worker:         python -m workers.main
#   migrations:     python -m db.migrate

# Stage 1: the staff web app (web/: Vue 3, Vite), built from its lock; only web/dist goes into the image.
FROM node:20-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/index.html web/vite.config.ts web/tsconfig.json web/env.d.ts ./
COPY web/src ./src
COPY web/public ./public
RUN npm run build

# Stage 2: the Python processes, and the built web app the API serves at /app.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so a code change does not reinstall them. The lock is complete
# (pip freeze), hence --no-deps: the image gets exactly the versions CI tested.
COPY requirements.lock ./
RUN pip install --no-deps -r requirements.lock

# Source packages only, named one by one: with no .dockerignore, `COPY . .` would also
# copy .venv, .git and .data (the embedded dev database). tests/test_compose.py fails if a
# new top-level package is not listed here. scripts/ (dev launcher) and tests/ stay out.
COPY pyproject.toml ./
COPY config ./config
COPY domain ./domain
COPY db ./db
COPY activities ./activities
COPY workflows ./workflows
COPY workers ./workers
COPY api ./api
COPY --from=web /web/dist ./web/dist

# Non-root: the code is root-owned and read-only to the process that runs it.
RUN useradd --create-home --uid 10001 --user-group estateflow \
 && mkdir -p /data && chown estateflow:estateflow /data
# DATA_DIR: evidence files uploaded on refund cases (compose mounts a volume here).
ENV DATA_DIR=/data
USER estateflow

EXPOSE 8000
CMD ["uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", "8000"]
