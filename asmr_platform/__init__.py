"""`python -m asmr_platform` (or `asmr_serve`): DeepASMR's platform as a local web app.

Find triggers in a catalogue, listen to exactly a segment, list similar segments of other recordings,
add a recording, and (with generator runs) vary, blend and sample new sounds. FastAPI serves one static
page with no build step and nothing fetched from the network, so it works offline (see docs/platform.md
for why not Gradio). It listens on 127.0.0.1 unless --host says otherwise.
"""
