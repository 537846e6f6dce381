"""usage: make_bad_cnn_model.py NAME OUT.pt -- scripts bad_cnn_models.MODELS[NAME]
(traces it, in evaluation mode, for eval-trace)."""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bad_cnn_models import MODELS  # noqa: E402

name, out = sys.argv[1], sys.argv[2]
model = MODELS[name]()
if name == "eval-trace":
    model.eval()
    torch.jit.trace(model, torch.randn(2, 3, 4, 4)).save(out)
else:
    torch.jit.script(model).save(out)
