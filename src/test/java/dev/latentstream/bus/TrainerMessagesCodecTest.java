package dev.latentstream.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Trainer events and commands cross the event bus unchanged: by reference locally, field for field
 * on the wire.
 */
class TrainerMessagesCodecTest {

  static final Map<String, Double> TERMS = new LinkedHashMap<>(Map.of("recon", 120.5));

  static final List<TrainerEvent> EVENTS =
      List.of(
          new TrainerEvent.Status(1, new JsonObject().put("id", "a").put("num", 1)),
          new TrainerEvent.Step(1, 17, 2, 1_795_000_000_000L, TERMS),
          new TrainerEvent.Epoch(
              1, new dev.latentstream.wire.EpochResult(2, 32, TERMS, 101.25, 1.5, 0.25)),
          new TrainerEvent.Setting(1, new dev.latentstream.wire.SettingChange(32, 2, "lr", 5e-4)),
          new TrainerEvent.Log(1, "fetching"),
          new TrainerEvent.Deleted(1, "a"),
          new TrainerEvent.Diagnostics(
              1,
              new dev.latentstream.diagnostics.Diagnostics(
                  40, 2, "kl", new double[] {3.25, 0.01, 2.5}, 2, 2, 0.99)),
          new TrainerEvent.Warning(
              1,
              new dev.latentstream.diagnostics.Warning(
                  40,
                  2,
                  "posterior_collapse",
                  "only 1 of 20 latent dimensions is active; try lowering beta",
                  "beta")));

  static final List<TrainerCommand> COMMANDS =
      List.of(
          new TrainerCommand.ListJobs(),
          new TrainerCommand.GetJob("a"),
          new TrainerCommand.Start("vae-fashion", null, 3),
          new TrainerCommand.Start(null, new JsonObject().put("model", "vae"), null),
          new TrainerCommand.Control(TrainerCommand.Action.STOP, 2),
          new TrainerCommand.Set("a", "beta", 4.0),
          new TrainerCommand.ModelRequest(
              1,
              "decode",
              new JsonObject().put("z", new io.vertx.core.json.JsonArray().add(0.5).add(1.5))),
          new TrainerCommand.ReadRunFile(
              "a", "metrics.csv", 1L << 33, TrainerCommand.ReadRunFile.MAX_CHUNK),
          new TrainerCommand.ExportModel(3, "safetensors", "decoder"));

  @Test
  void everyTrainerEventRoundTrips() {
    assertEquals(
        TrainerEvent.class.getPermittedSubclasses().length,
        EVENTS.size(),
        "a sample of every kind");
    for (TrainerEvent e : EVENTS) {
      TrainerEvent.Codec codec = new TrainerEvent.Codec(e.getClass());
      assertSame(e, codec.transform(e));
      Buffer wire = Buffer.buffer("xy");
      codec.encodeToWire(wire, e);
      assertEquals(e, codec.decodeFromWire(2, wire));
    }
  }

  @Test
  void everyTrainerCommandRoundTrips() {
    assertEquals(
        TrainerCommand.class.getPermittedSubclasses().length,
        COMMANDS.stream().map(Object::getClass).distinct().count(),
        "a sample of every command");
    for (TrainerCommand c : COMMANDS) {
      TrainerCommand.Codec codec = new TrainerCommand.Codec(c.getClass());
      assertSame(c, codec.transform(c));
      Buffer wire = Buffer.buffer();
      codec.encodeToWire(wire, c);
      assertEquals(c, codec.decodeFromWire(0, wire));
    }
  }

  @Test
  void unknownKindsOnTheWireFailLoudly() {
    Buffer json = new JsonObject().put("type", "explode").put("job", 1).toBuffer();
    Buffer wire = Buffer.buffer().appendInt(json.length()).appendBuffer(json);
    assertThrows(
        IllegalArgumentException.class,
        () -> new TrainerEvent.Codec(TrainerEvent.Log.class).decodeFromWire(0, wire));
    Buffer cmd = new JsonObject().put("op", "explode").toBuffer();
    Buffer wire2 = Buffer.buffer().appendInt(cmd.length()).appendBuffer(cmd);
    assertThrows(
        IllegalArgumentException.class,
        () -> new TrainerCommand.Codec(TrainerCommand.ListJobs.class).decodeFromWire(0, wire2));
  }
}
