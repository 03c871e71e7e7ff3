package org.cohortfusion.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.cohortfusion.cohort.generate.GenerateOptions;
import org.cohortfusion.cohort.generate.GenerateResult;
import org.cohortfusion.cohort.generate.Missingness;
import org.cohortfusion.cohort.generate.Modality;
import org.cohortfusion.cohort.generate.SyntheticCohortGenerator;
import org.cohortfusion.spark.Sessions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(
    name = "generate",
    mixinStandardHelpOptions = true,
    description = {
      "Write a synthetic cohort with all five modality kinds and a known truth: the label is drawn from a",
      "probability that depends on every modality plus an interaction no single modality reveals; the true",
      "probability of each subject is written too (subjects.true_probability), and the probability given only",
      "the rows and modalities the subject has (subjects.observable_probability)."
    })
final class GenerateCommand implements Stage, Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin RunOptions run;
  private boolean local;

  @Option(
      names = {"-o", "--output"},
      defaultValue = "work/demo/input",
      description = "Cohort directory to write (default: ${DEFAULT-VALUE}).")
  String output;

  @Option(
      names = {"-n", "--subjects"},
      defaultValue = "2000",
      description = "Number of subjects (default: ${DEFAULT-VALUE}).")
  long subjects;

  @Option(
      names = "--seed",
      defaultValue = "42",
      description = "Seed; the same options give the same cohort (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--partitions",
      defaultValue = "0",
      description = "Spark partitions; 0 = about 100k subjects each.")
  int partitions;

  @Option(
      names = "--omics-length",
      defaultValue = "256",
      description = "Length of the omics vector (default: ${DEFAULT-VALUE}).")
  int omicsLength;

  @Option(
      names = "--image-shape",
      defaultValue = "1x16x16",
      description = "Image shape CxHxW (default: ${DEFAULT-VALUE}).")
  String imageShape;

  @Option(
      names = "--max-lab-visits",
      defaultValue = "12",
      description = "Most lab visits per subject (default: ${DEFAULT-VALUE}).")
  int maxLabVisits;

  @Option(
      names = "--missing",
      paramLabel = "MODALITY=RATE[:MECHANISM]",
      description = {
        "Missingness of a modality (clinical, omics, imaging, labs, notes): a rate and mcar | mnar_label | mnar_feature",
        "| site_rising | site_falling (absence from 0 at site-0 to 2 x rate at site-4, or the reverse),",
        "e.g. --missing imaging=0.5:mnar_label (repeatable). Defaults: clinical 0.05, omics 0.3, imaging 0.3, labs 0.25, notes 0.4, MCAR."
      })
  List<String> missing = new ArrayList<>();

  @Option(
      names = "--bad-rows",
      defaultValue = "0",
      description = "Planted bad rows per table and kind, for ingest to catch (default: none).")
  int badRows;

  @Option(
      names = "--interaction",
      defaultValue = "1.0",
      description = "Coefficient of the cross-modal interaction z3*z4 (default: ${DEFAULT-VALUE}).")
  double interaction;

  @Override
  public RunOptions run() {
    return run;
  }

  /** Generate has no config: its status goes to {@code <output>/_status/generate.json}. */
  @Override
  public String statusRoot() {
    return output;
  }

  @Override
  public Configuration hadoopConf() {
    return local
        ? new Configuration()
        : Sessions.getOrCreate("generate").sparkContext().hadoopConfiguration();
  }

  @Override
  public void resolveLocally(java.util.Map<String, String> shippedFiles) {
    local = true;
  }

  @Override
  public Integer call() {
    GenerateOptions options;
    try {
      options = options();
    } catch (IllegalArgumentException e) {
      // GenerateOptions checks the option values ("Cannot generate cohort: ..."): the user's to
      // fix.
      throw new ParameterException(spec.commandLine(), e.getMessage(), e, null, null);
    }
    GenerateResult result =
        new SyntheticCohortGenerator().generate(Sessions.getOrCreate("generate"), options, output);
    System.out.printf(
        "Generated %d subjects (label prevalence %.3f) into %s%n",
        subjects, result.labelPrevalence(), result.outputDir());
    result
        .rowCounts()
        .forEach((table, rows) -> System.out.printf("  %-10s %10d rows%n", table, rows));
    if (result.plantedTotal() > 0) {
      System.out.printf(
          "  planted bad rows: %d (see %s/_planted.json)%n",
          result.plantedTotal(), result.outputDir());
    }
    return 0;
  }

  GenerateOptions options() {
    GenerateOptions o =
        GenerateOptions.defaults()
            .withSubjects(subjects)
            .withSeed(seed)
            .withPartitions(partitions)
            .withOmicsLength(omicsLength)
            .withImageShape(parseShape(imageShape))
            .withMaxLabVisits(maxLabVisits)
            .withBadRows(badRows)
            .withInteraction(interaction);
    for (String m : missing) {
      o = o.withMissingness(modality(m), missingness(m));
    }
    return o;
  }

  private int[] parseShape(String s) {
    try {
      String[] parts = s.toLowerCase(Locale.ROOT).split("x");
      int[] shape = new int[parts.length];
      for (int i = 0; i < parts.length; i++) {
        shape[i] = Integer.parseInt(parts[i].trim());
      }
      return shape;
    } catch (NumberFormatException e) {
      throw new ParameterException(
          spec.commandLine(), "Cannot use --image-shape '" + s + "': expected CxHxW, e.g. 1x16x16");
    }
  }

  private Modality modality(String arg) {
    String name = arg.split("=", 2)[0].trim();
    for (Modality m : Modality.values()) {
      if (m.table().equals(name)) {
        return m;
      }
    }
    throw new ParameterException(
        spec.commandLine(),
        "Cannot use --missing '"
            + arg
            + "': unknown modality '"
            + name
            + "', expected clinical, omics, imaging, labs or notes");
  }

  private Missingness missingness(String arg) {
    String[] kv = arg.split("=", 2);
    if (kv.length != 2) {
      throw new ParameterException(
          spec.commandLine(),
          "Cannot use --missing '" + arg + "': expected MODALITY=RATE[:MECHANISM]");
    }
    String[] rm = kv[1].split(":", 2);
    try {
      Missingness.Mechanism mech =
          rm.length == 2
              ? Missingness.Mechanism.valueOf(rm[1].trim().toUpperCase(Locale.ROOT))
              : Missingness.Mechanism.MCAR;
      return new Missingness(Double.parseDouble(rm[0].trim()), mech);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(
          spec.commandLine(),
          "Cannot use --missing '"
              + arg
              + "': expected a rate in [0, 1) and mcar, mnar_label, mnar_feature, site_rising or"
              + " site_falling");
    }
  }
}
