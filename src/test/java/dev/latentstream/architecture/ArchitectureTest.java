package dev.latentstream.architecture;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The package drawing of {@code docs/architecture.md} as rules over the compiled main classes: the
 * wire vocabulary and the event-bus contract sit below both the trainer side and the gateway side,
 * which meet only through them.
 */
@AnalyzeClasses(
    packages = "dev.latentstream",
    importOptions = {ImportOption.DoNotIncludeTests.class, ImportOption.DoNotIncludeJars.class})
class ArchitectureTest {

  /** Each top-level package with its sub-packages is one slice; no two may reach each other. */
  @ArchTest
  static final ArchRule noPackageCycles =
      slices().matching("dev.latentstream.(*)..").should().beFreeOfCycles();

  /**
   * A gateway node links none of the trainer's classes: it reads the contract and the run format
   * only.
   */
  @ArchTest
  static final ArchRule gatewaysDoNotReachTheTrainerSide =
      noClasses()
          .that()
          .resideInAnyPackage("dev.latentstream.gateway..", "dev.latentstream.stream..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(
              "dev.latentstream.train..",
              "dev.latentstream.model..",
              "dev.latentstream.optim..",
              "dev.latentstream.jobs..",
              "dev.latentstream.rundir..");

  /**
   * The wire vocabulary imports nothing of ours and no framework: plain Java that both sides share.
   */
  @ArchTest
  static final ArchRule theWireVocabularyStandsAlone =
      classes()
          .that()
          .resideInAPackage("dev.latentstream.wire..")
          .should()
          .onlyDependOnClassesThat()
          .resideInAnyPackage("dev.latentstream.wire..", "java..");

  /**
   * The event-bus contract builds on the wire vocabulary and the diagnostics records, nothing else
   * of ours.
   */
  @ArchTest
  static final ArchRule theBusContractSitsBelowBothSides =
      classes()
          .that()
          .resideInAPackage("dev.latentstream.bus..")
          .should()
          .onlyDependOnClassesThat(
              resideOutsideOfPackage("dev.latentstream..")
                  .or(
                      resideInAnyPackage(
                          "dev.latentstream.bus..",
                          "dev.latentstream.wire..",
                          "dev.latentstream.diagnostics..")));

  /**
   * The run format that gateways read links nothing of the trainer's (no model, optimiser or
   * trainer class).
   */
  @ArchTest
  static final ArchRule theRunFormatNeedsOnlyTheWire =
      classes()
          .that()
          .resideInAPackage("dev.latentstream.runformat..")
          .should()
          .onlyDependOnClassesThat()
          .resideInAnyPackage("dev.latentstream.runformat..", "dev.latentstream.wire..", "java..");

  /**
   * Native calls are made in nativelib only: no other package links a symbol or builds a downcall.
   * The memory half of {@code java.lang.foreign} ({@code MemorySegment}, {@code Arena}, {@code
   * ValueLayout}) is how tensors and arrays reach nativelib's kernels in place, and stays open to
   * every package.
   */
  @ArchTest
  static final ArchRule nativeCallsOnlyInNativelib =
      noClasses()
          .that()
          .resideOutsideOfPackage("dev.latentstream.nativelib..")
          .should()
          .dependOnClassesThat()
          .haveNameMatching(
              "java\\.lang\\.foreign\\.(Linker|SymbolLookup|FunctionDescriptor)(\\$.*)?");

  /**
   * The training loop and the models run headless: no Vert.x, so the CLI and the server share them.
   */
  @ArchTest
  static final ArchRule trainingImportsNoVertx =
      noClasses()
          .that()
          .resideInAnyPackage("dev.latentstream.train..", "dev.latentstream.model..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage("io.vertx..");
}
