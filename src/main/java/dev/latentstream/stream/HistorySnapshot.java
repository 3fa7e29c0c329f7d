package dev.latentstream.stream;

/**
 * A job's loss history as newcomers get it: the first {@code rows} rows of {@code columns},
 * decimated to at most {@link #MAX_POINTS} per column and encoded as JSON once, on a worker. Rows
 * after it reach a newcomer as a {@code loss} message (the tail), so history and live points meet
 * with no gap or repeat.
 *
 * <p>Threads: built on a worker, then read on the hub's event loop; its fields never change.
 */
record HistorySnapshot(Columns columns, int rows, String columnsJson) {

  /**
   * Points per column a newcomer gets at most; full resolution stays at {@code GET
   * /api/jobs/{id}/metrics}.
   */
  static final int MAX_POINTS = 4096;

  /**
   * Rows after a snapshot that a newcomer may get as a tail (encoded per delivery) before a fresh
   * snapshot is worth building: about half a second of training, so a reconnect storm shares a few
   * snapshots.
   */
  static final int MAX_TAIL_ROWS = 64;

  /**
   * Serves a newcomer whose loss columns now hold {@code rows} rows, with a tail of at most {@link
   * #MAX_TAIL_ROWS}.
   */
  boolean serves(Columns now) {
    int tail = now.size() - rows;
    return columns == now && tail <= MAX_TAIL_ROWS && !(rows == 0 && tail > 0);
  }

  /** Blocking (proportional to the rows): run on a worker. */
  static HistorySnapshot build(Columns.View view) {
    return new HistorySnapshot(view.source(), view.size(), view.decimated(MAX_POINTS).encode());
  }
}
