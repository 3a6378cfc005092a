"""The tabs of the app, in order. Each module has TAB_ID, TITLE (a UI-string key) and build() -> note component."""
from demos import (attention, cnn, compare, ddpm, evaluation, flow, gan, linear, pixelcnn, rnn, score, simclr,
                   transformer, vae)

TABS = [ddpm, score, flow, pixelcnn, transformer, attention, linear, cnn, evaluation, vae, gan, rnn, simclr, compare]
