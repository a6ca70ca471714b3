"""Synthetic fixture: references the scanner must NOT report."""

from datasets import load_dataset
from huggingface_hub import snapshot_download
from transformers import AutoModel

org = "example-org"
a = AutoModel.from_pretrained(f"{org}/templated-model")  # f-string: not static
b = AutoModel.from_pretrained("./checkpoints/run-1")  # local path
c = AutoModel.from_pretrained("models/local-model")  # exists on disk: a local folder
d = AutoModel.from_pretrained("single-name")  # not owner/name
e = snapshot_download(repo_id="example-org/some-dataset", repo_type="dataset")  # a dataset
f = load_dataset("example-org/another-dataset")  # not a model call
g = AutoModel.from_pretrained("/abs/path/to/model")  # absolute path
h = AutoModel.from_pretrained("example-org/weights.safetensors")  # a file, not a repo
i = print("example-org/just-a-string")  # not a model call
reused = "example-org/rebound"
reused = "example-org/rebound-again"
j = AutoModel.from_pretrained(reused)  # bound twice: ambiguous
