package dev.latentstream.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import org.junit.jupiter.api.Test;

class BusyTest {

  @Test
  void theTrainersRetryHintCrossesTheBusInTheFailureMessage() {
    Busy sent = new Busy("the trainer's time is used up; retry in 37 ms", 37);
    Busy read =
        Busy.of(
            new ReplyException(
                ReplyFailure.RECIPIENT_FAILURE, Busy.FAILURE_CODE, sent.failureMessage()),
            200);
    assertEquals(sent, read);
  }

  @Test
  void aPlainMessageKeepsItsTextAndGetsTheFallbackHint() {
    assertEquals(
        new Busy("busy", 200),
        Busy.of(
            new ReplyException(ReplyFailure.RECIPIENT_FAILURE, Busy.FAILURE_CODE, "busy"), 200));
    assertEquals(
        new Busy("{\"message\":\"x\",\"retryAfterMs\":-1}", 200),
        Busy.of(
            new ReplyException(
                ReplyFailure.RECIPIENT_FAILURE,
                Busy.FAILURE_CODE,
                "{\"message\":\"x\",\"retryAfterMs\":-1}"),
            200),
        "a hint that is not above 0 is not trusted");
  }
}
