package dev.latentstream.model;

import static org.bytedeco.pytorch.global.torch.binary_cross_entropy_with_logits;
import static org.bytedeco.pytorch.global.torch.mse_loss;
import static org.bytedeco.pytorch.global.torch.sigmoid;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfig.ReconLoss;
import dev.latentstream.config.JobConfig.Reduction;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * Loss terms, each a scalar tensor per image (summed or averaged within an image, always averaged
 * over the batch). {@code total} is what the optimiser minimises and is reported as {@code loss};
 * {@code codes} are the batch's codes (posterior means), when the model provides them, and {@code
 * logVar} the posterior log-variances of variational models (null otherwise).
 */
public record Losses(Map<String, Tensor> terms, Tensor total, Tensor codes, Tensor logVar) {

  public static Losses of(Tensor total, Object... namesAndTerms) {
    Map<String, Tensor> m = new LinkedHashMap<>();
    for (int i = 0; i < namesAndTerms.length; i += 2) {
      m.put((String) namesAndTerms[i], (Tensor) namesAndTerms[i + 1]);
    }
    m.put("loss", total);
    return new Losses(m, total, null, null);
  }

  /** The same losses, carrying the codes (posterior means) the batch was encoded to. */
  public Losses withCodes(Tensor codes) {
    return new Losses(terms, total, codes, logVar);
  }

  /** The same losses, carrying the batch's posterior: means and log-variances. */
  public Losses withPosterior(Tensor mean, Tensor logVar) {
    return new Losses(terms, total, mean, logVar);
  }

  /**
   * The VAE objective: reconstruction + β · KL. With {@code freeBits} λ &gt; 0 the optimised KL is
   * Σ_d max(λ, KL_d), KL_d averaged over the batch (Kingma et al., 2016, "free bits"), so no
   * dimension is pushed below λ nats; the reported {@code kl} term stays the true KL.
   */
  public static Losses variational(
      Tensor logits,
      Tensor target,
      Autoencoder.Encoded posterior,
      JobConfig job,
      double beta,
      double freeBits) {
    Tensor recon = reconstruction(logits, target, job.loss(), job.reduction());
    Tensor kl = kl(posterior.mean(), posterior.logVar(), job.reduction());
    Tensor optimised =
        freeBits > 0
            ? freeBitsKl(posterior.mean(), posterior.logVar(), freeBits, job.reduction())
            : kl;
    return of(recon.add(optimised.mul(new Scalar(beta))), "recon", recon, "kl", kl)
        .withPosterior(posterior.mean(), posterior.logVar());
  }

  /**
   * KL(q(z|x) || N(0, I)) of one latent dimension of one image, whose posterior has mean {@code mu}
   * and log-variance {@code logVar}; see Kingma & Welling, Auto-Encoding Variational Bayes,
   * Appendix B: -1/2 · (1 + log σ² − μ² − σ²). The one definition of the KL term: {@link #klTerms}
   * is the same per element on tensors (LossesTest holds them equal), and the hand-written steps
   * and the latent diagnostics sum this function.
   */
  public static double klTerm(double mu, double logVar) {
    return -0.5 * (1 + logVar - mu * mu - Math.exp(logVar));
  }

  /** {@link #klTerm} element by element, for autograd: a tensor the shape of {@code mu}. */
  public static Tensor klTerms(Tensor mu, Tensor logVar) {
    return logVar
        .add(new Scalar(1.0))
        .sub(mu.pow(new Scalar(2.0)))
        .sub(logVar.exp())
        .mul(new Scalar(-0.5));
  }

  /** KL per latent dimension, averaged over the batch: a {@code [latent]} tensor, in nats. */
  public static Tensor klPerDimension(Tensor mu, Tensor logVar) {
    return klTerms(mu, logVar).mean(0);
  }

  /** The free-bits KL: Σ_d max(λ, KL_d), divided by the dimensions for {@code reduction: mean}. */
  public static Tensor freeBitsKl(Tensor mu, Tensor logVar, double freeBits, Reduction reduction) {
    Tensor perDim = klPerDimension(mu, logVar);
    Tensor sum = torch.clamp_min(perDim, new Scalar(freeBits)).sum();
    return reduction == Reduction.sum ? sum : sum.div(new Scalar((double) perDim.numel()));
  }

  /**
   * Reconstruction error of {@code logits} (pre-sigmoid decoder output) against {@code target} in
   * [0, 1]. BCE goes through the fused with-logits kernel: sigmoid followed by BCE saturates at
   * logits ≳ 17 and then has a zero gradient.
   */
  public static Tensor reconstruction(
      Tensor logits, Tensor target, ReconLoss loss, Reduction reduction) {
    long batch = logits.size(0);
    long perImage = logits.numel() / batch;
    Tensor sum =
        switch (loss) {
          case bce ->
              binary_cross_entropy_with_logits(
                  logits,
                  target,
                  new TensorOptional(),
                  new TensorOptional(),
                  torch.Reduction.Sum.value);
          case mse -> mse_loss(sigmoid(logits), target, torch.Reduction.Sum.value);
        };
    double divisor = reduction == Reduction.sum ? batch : (double) batch * perImage;
    return sum.div(new Scalar(divisor));
  }

  /**
   * The KL term of a batch ({@link #klTerm} summed), per image ({@code sum}) or per image and
   * dimension ({@code mean}).
   */
  public static Tensor kl(Tensor mu, Tensor logVar, Reduction reduction) {
    return klTerms(mu, logVar).sum().div(new Scalar(klDivisor(mu, reduction)));
  }

  /** What the summed KL of a batch like {@code mu} ({@code [batch, latent]}) is divided by. */
  public static double klDivisor(Tensor mu, Reduction reduction) {
    long batch = mu.size(0);
    return reduction == Reduction.sum ? batch : (double) mu.numel();
  }
}
