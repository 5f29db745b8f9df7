# syntax=docker/dockerfile:1.7
# The ewto image: Airflow's official image (the pinned version of pyproject.toml and
# uv.lock) plus ewto's locked dependencies and the project (ingestion/, dags/, dbt_project/,
# config/, expectations/). One image for every Airflow service of docker-compose.yml.
#
#   docker compose build           (or: docker build -t ewto-airflow:latest .)
#
# The base tag must match `apache-airflow==` in pyproject.toml (tests/test_compose.py checks).
FROM apache/airflow:3.3.2-python3.11

ENV EWTO_REPO=/opt/ewto \
    EWTO_HOME=/opt/ewto/var \
    EWTO_DROP_DIR=/opt/ewto/drops \
    PYTHONPATH=/opt/ewto \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/ewto/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    GX_ANALYTICS_ENABLED=False \
    DBT_SEND_ANONYMOUS_USAGE_STATS=False \
    DO_NOT_TRACK=1

USER root
RUN mkdir -p /opt/ewto/var /opt/ewto/drops \
 && chown -R airflow:0 /opt/ewto \
 && chmod -R g+rwX /opt/ewto
USER airflow
WORKDIR /opt/ewto

# 1. the locked dependencies (a layer that changes only with uv.lock): exported from the
#    lock with hashes and installed with uv into the image's Python environment
COPY --chown=airflow:0 pyproject.toml uv.lock README.md ./
RUN (command -v uv >/dev/null || pip install --no-cache-dir "uv>=0.5,<1") \
 && uv export --frozen --no-dev --no-emit-project --format requirements-txt -o /tmp/requirements.txt \
 && uv pip install --no-cache --require-hashes -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# 2. the project itself (editable, so ingestion.registry finds config/ beside it)
COPY --chown=airflow:0 ingestion ./ingestion
COPY --chown=airflow:0 dags ./dags
COPY --chown=airflow:0 dbt_project ./dbt_project
COPY --chown=airflow:0 config ./config
COPY --chown=airflow:0 expectations ./expectations
# celery 5.7 (locked) removed a name apache-airflow-providers-celery 3.26 imports: a .pth
# file installs ingestion/sources/celery_compat.py's shim at interpreter start-up (a no-op
# once the lock pins celery<5.7; then delete this line)
RUN uv pip install --no-cache --no-deps -e . \
 && echo "import ingestion.sources.celery_compat as _c; _c.install()" \
      > "$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/ewto_celery_compat.pth" \
 && python -c "import ingestion.sources, ingestion.cli" \
 && python -c "from airflow.providers.celery.executors.celery_executor import app" \
 && airflow version
