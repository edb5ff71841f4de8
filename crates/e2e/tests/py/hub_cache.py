"""The Python huggingface_hub client on the same cache as pricer (tests/hub_input.rs).

usage: hub_cache.py REPO FILE...   (HF_ENDPOINT, HF_HUB_CACHE, HF_HUB_OFFLINE from the
environment). Prints one JSON object: file -> local path the client resolved.
"""

import json
import sys

from huggingface_hub import hf_hub_download

repo, files = sys.argv[1], sys.argv[2:]
print(json.dumps({f: hf_hub_download(repo, f, repo_type="dataset") for f in files}))
