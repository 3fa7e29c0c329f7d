package dev.latentstream.diagnostics;

/**
 * An alarm about the run: {@code code} is one of {@link #POSTERIOR_COLLAPSE}, {@link
 * #INACTIVE_DIMENSIONS} or {@link #TEST_LOSS_RISING}; {@code message} is written for the user and
 * names what to try; {@code setting} is the live setting it points to ({@code beta}, {@code lr} or
 * {@code freeBits}).
 */
public record Warning(long step, int epoch, String code, String message, String setting) {

  public static final String POSTERIOR_COLLAPSE = "posterior_collapse";
  public static final String INACTIVE_DIMENSIONS = "inactive_dimensions";
  public static final String TEST_LOSS_RISING = "test_loss_rising";
}
