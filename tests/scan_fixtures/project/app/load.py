"""Synthetic fixture: every supported Python call pattern (never executed)."""

import vllm
from huggingface_hub import hf_hub_download, snapshot_download
from peft import PeftModel
from sentence_transformers import SentenceTransformer
from transformers import AutoModelForCausalLM, AutoTokenizer, pipeline

MODEL_ID = "example-org/constant-model"

tokenizer = AutoTokenizer.from_pretrained("example-org/chat-model")
model = AutoModelForCausalLM.from_pretrained(
    pretrained_model_name_or_path="example-org/chat-model",
    revision="0123456789abcdef0123456789abcdef01234567",
)
adapter = PeftModel.from_pretrained(model, "example-org/lora-adapter")
weights = hf_hub_download(repo_id="example-org/weights-model", filename="model.safetensors")
folder = snapshot_download("example-org/snapshot-model")
generator = pipeline("text-generation", model="example-org/pipeline-model")
embedder = SentenceTransformer("example-org/embedding-model")
llm = vllm.LLM(model="example-org/vllm-model")
constant = AutoModelForCausalLM.from_pretrained(MODEL_ID)
