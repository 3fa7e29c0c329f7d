#!/usr/bin/env python3
"""latentstream's aae in PyTorch (model.AdversarialAutoencoder, train.StepRule.Adversarial): the
adversarial autoencoder of Makhzani et al. (2015). Encoder pixels -> hidden... -> code (ReLU after the
hidden layers, none on the code), decoder code -> ...hidden -> pixels (logits); a discriminator code ->
discriminator.hidden... -> 1 with ReLU. Each batch takes three steps, as latentstream's: reconstruction
(the job's optimiser on encoder and decoder, the job's lr), discriminator (prior draws real, detached codes
fake, its own lr), generator (the encoder's codes labelled real, the job's lr). The loss reported is the
reconstruction. See peer_common.py for the command line and output.
"""
import torch
import torch.nn.functional as F

import peer_common as peer


class AAE(torch.nn.Module):
    def __init__(self, spec, pixels):
        super().__init__()
        hidden, latent = spec["hidden"], spec["latent"]
        self.encoder = peer.mlp([pixels] + hidden + [latent], False)
        self.decoder = peer.mlp([latent] + hidden[::-1] + [pixels], False)
        self.discriminator = peer.mlp([latent] + spec["discriminator"]["hidden"] + [1], False)


def steps(model, spec):
    recon_opt = peer.optimizer(spec, list(model.encoder.parameters()) + list(model.decoder.parameters()))
    disc_opt = peer.optimizer(spec, model.discriminator.parameters(), spec["discriminator"]["lr"])
    gen_opt = peer.optimizer(spec, model.encoder.parameters())

    def recon_loss(x):
        return peer.reconstruction(model.decoder(model.encoder(x)), x, spec)

    def train_step(x):
        recon = peer.descend(recon_opt, recon_loss(x))

        prior = torch.randn(x.shape[0], spec["latent"])
        real = model.discriminator(prior)
        fake = model.discriminator(model.encoder(x).detach())
        peer.descend(disc_opt, F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
                     + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))

        judged = model.discriminator(model.encoder(x))
        peer.descend(gen_opt, F.binary_cross_entropy_with_logits(judged, torch.ones_like(judged)))
        return recon

    return train_step, (lambda x: recon_loss(x).item())


if __name__ == "__main__":
    peer.main(__doc__, lambda spec, rows, cols: AAE(spec, rows * cols), steps)
