# ValueLens image: one image for the web server, the worker, beat and the migrate step;
# docker-compose.yml picks the role by the `valuelens <sub-command>` it runs.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/data \
    PORT=8050

RUN useradd --create-home --uid 10001 valuelens \
    && mkdir -p /data \
    && chown valuelens:valuelens /data

WORKDIR /app

# Dependencies in their own layer: installing the project with empty packages pulls in
# every pinned dependency, so a code change below does not reinstall them.
COPY pyproject.toml constraints.txt README.md ./
RUN mkdir dashboard workers models \
    && touch dashboard/__init__.py workers/__init__.py models/__init__.py \
    && pip install -c constraints.txt '.[postgres]' \
    && pip uninstall -y valuelens \
    && rm -rf dashboard workers models build ./*.egg-info

COPY dashboard ./dashboard
COPY workers ./workers
COPY models ./models
COPY assets ./assets
RUN pip install --no-deps . && rm -rf build ./*.egg-info
# Import the packages from the source tree: Dash serves assets/ from next to them, which
# the site-packages copy (installed for the `valuelens` console script) does not have.
ENV PYTHONPATH=/app

USER valuelens
EXPOSE 8050
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8050'), timeout=4)" || exit 1

CMD ["valuelens", "web"]
