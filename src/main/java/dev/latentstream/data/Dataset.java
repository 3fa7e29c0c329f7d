package dev.latentstream.data;

import java.util.List;

/**
 * A labelled image dataset with a train and a test split. {@code classNames.get(label)} names a
 * label.
 */
public record Dataset(String name, Split train, Split test, List<String> classNames) {}
