package org.cohortfusion.study;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.cohortfusion.config.PipelineConfig;

/**
 * The cells of a study: the base cell with every modality at its configured embedding size, then,
 * per modality of {@code study.embedding-sizes} (by name) and per listed size (in the listed order)
 * that differs from the configured one, a cell with that modality at that size and every other
 * modality at its configured size. One modality varies at a time, so a grid of m modalities with s
 * sizes each costs about m·s cells rather than s^m.
 */
public final class StudyGrid {
  /** Name of the cell with the config's own sizes. */
  public static final String BASE = "base";

  private StudyGrid() {}

  /**
   * One cell.
   *
   * @param name directory name under {@code <output.dir>/study}: {@code base} or {@code
   *     <modality>-<size>}
   * @param varied the modality whose size differs from the config's, or null for the base cell
   * @param sizes embedding size of every modality in this cell, by modality name
   */
  public record Cell(String name, String varied, Map<String, Integer> sizes) {
    public Cell {
      sizes = Collections.unmodifiableMap(new TreeMap<>(sizes));
    }

    /** The varied modality's size in this cell (base cell: null). */
    public Integer variedSize() {
      return varied == null ? null : sizes.get(varied);
    }
  }

  /**
   * The config's own embedding size of every modality (pretrain.encoders.<m>.embedding-size or its
   * default).
   */
  public static Map<String, Integer> baseSizes(PipelineConfig config) {
    Map<String, Integer> sizes = new TreeMap<>();
    for (String m : config.modalities().keySet()) {
      sizes.put(m, config.pretrain().encoder(m).embeddingSize());
    }
    return sizes;
  }

  /** Every cell of the config's study, the base cell first. */
  public static List<Cell> cells(PipelineConfig config) {
    Map<String, Integer> base = baseSizes(config);
    List<Cell> cells = new ArrayList<>();
    cells.add(new Cell(BASE, null, base));
    for (Map.Entry<String, List<Integer>> e : config.study().embeddingSizes().entrySet()) {
      for (int size : e.getValue()) {
        if (size == base.get(e.getKey())) {
          continue;
        }
        Map<String, Integer> sizes = new TreeMap<>(base);
        sizes.put(e.getKey(), size);
        cells.add(new Cell(e.getKey() + "-" + size, e.getKey(), sizes));
      }
    }
    return cells;
  }

  /**
   * Root of a cell's outputs: every stage's usual layout below {@code <output.dir>/study/<cell>}.
   */
  public static String cellDir(PipelineConfig config, Cell cell) {
    return config.studyOutputDir() + "/" + cell.name();
  }

  /**
   * Where {@code path}, a directory of the config's own layout under output.dir (e.g. {@link
   * PipelineConfig#foldOutputDir(int, int)} or {@link PipelineConfig#cvOutputDir()}), lies in the
   * cell: the same layout with the cell's directory as output.dir, so a cross-validated cell reads
   * like a cross-validated run.
   */
  public static String inCell(PipelineConfig config, Cell cell, String path) {
    String root = config.output().dir();
    if (!path.startsWith(root)) {
      throw new IllegalArgumentException(
          "Cannot place " + path + " in study cell " + cell.name() + ": it is not under " + root);
    }
    return cellDir(config, cell) + path.substring(root.length());
  }
}
