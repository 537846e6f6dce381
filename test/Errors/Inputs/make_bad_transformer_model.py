"""usage: make_bad_transformer_model.py NAME OUT.pt -- scripts MODELS[NAME]."""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bad_transformer_models import MODELS  # noqa: E402

torch.jit.script(MODELS[sys.argv[1]]()).save(sys.argv[2])
