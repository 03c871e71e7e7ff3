package org.cohortfusion.evaluate.report;

import java.awt.Color;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.cohortfusion.evaluate.CrossValidationResult;
import org.cohortfusion.evaluate.EvaluateResult;

/**
 * Which models a chart draws bold: the best fusion model, the best unimodal baseline and the best
 * classical baseline (when one was trained) — the three a reader compares. Every other model is
 * drawn thin and light grey, after them in the legend.
 */
public final class Emphasis {
  /** The emphasised roles, in legend order, each with its own Okabe–Ito colour. */
  public enum Role {
    BEST_FUSION("best fusion", Charts.Style.BLUE, "blue"),
    BEST_UNIMODAL("best unimodal", Charts.Style.VERMILLION, "vermillion"),
    BEST_CLASSICAL("best classical", Charts.Style.BLUISH_GREEN, "bluish green");

    private final String label;
    private final Color paint;
    private final String colourName;

    Role(String label, Color paint, String colourName) {
      this.label = label;
      this.paint = paint;
      this.colourName = colourName;
    }

    /** How the legend names the role. */
    public String label() {
      return label;
    }

    public Color paint() {
      return paint;
    }
  }

  private Emphasis() {}

  /**
   * Model name to role of the test evaluation, in role order: the "fusion" model with the highest
   * test AUROC, the best unimodal baseline ({@link EvaluateResult#bestUnimodal()}: among the
   * baselines chosen on validation) and the "classical" model ({@code linear}, {@code gbt}) with
   * the highest test AUROC. A role nobody holds is left out.
   */
  public static Map<String, Role> of(EvaluateResult eval) {
    Map<String, Role> roles = new LinkedHashMap<>();
    eval.best("fusion").ifPresent(m -> roles.put(m.name(), Role.BEST_FUSION));
    eval.bestUnimodal().ifPresent(m -> roles.putIfAbsent(m.name(), Role.BEST_UNIMODAL));
    eval.best("classical").ifPresent(m -> roles.putIfAbsent(m.name(), Role.BEST_CLASSICAL));
    return roles;
  }

  /** The same roles for cross-validation, on the pooled out-of-fold AUROC. */
  public static Map<String, Role> of(CrossValidationResult cv) {
    Map<String, Role> roles = new LinkedHashMap<>();
    bestOfKind(cv, "fusion").ifPresent(m -> roles.put(m.name(), Role.BEST_FUSION));
    cv.bestUnimodal().ifPresent(m -> roles.putIfAbsent(m.name(), Role.BEST_UNIMODAL));
    bestOfKind(cv, "classical").ifPresent(m -> roles.putIfAbsent(m.name(), Role.BEST_CLASSICAL));
    return roles;
  }

  private static Optional<CrossValidationResult.Model> bestOfKind(
      CrossValidationResult cv, String kind) {
    return cv.models().stream()
        .filter(m -> kind.equals(m.kind()))
        .filter(m -> !Double.isNaN(m.pooled().auroc()))
        .max(Comparator.comparingDouble(m -> m.pooled().auroc()));
  }

  /**
   * The sentence a caption gives the emphasis: "Bold: mean (best fusion, blue), ...; thin grey:
   * every other model." Names the models in text too, so the page says which they are without
   * reading the legend.
   */
  public static String caption(Map<String, Role> roles) {
    if (roles.isEmpty()) {
      return "No fusion, unimodal or classical model to emphasise: every model in its default colour.";
    }
    StringBuilder s = new StringBuilder("Bold: ");
    roles.forEach(
        (name, role) ->
            s.append(s.length() > 6 ? ", " : "")
                .append(name)
                .append(" (")
                .append(role.label())
                .append(", ")
                .append(role.colourName)
                .append(')'));
    return s.append("; thin grey: every other model.").toString();
  }

  /**
   * The lines of {@code byModel} (model name to its line, in the caller's order) ready to draw: the
   * emphasised ones first in role order, bold in their role's colour, their legend entry naming the
   * role; then every other line thin and grey in the caller's order. When no line holds a role (say
   * only early and late were trained), every line keeps JFreeChart's default colours: a chart of
   * grey lines only would hide them all.
   */
  public static List<Charts.Line> styled(
      Map<String, Charts.Line> byModel, Map<String, Role> roles) {
    if (roles.keySet().stream().noneMatch(byModel::containsKey)) {
      return new ArrayList<>(byModel.values());
    }
    List<Charts.Line> lines = new ArrayList<>();
    roles.forEach(
        (name, role) -> {
          Charts.Line l = byModel.get(name);
          if (l != null) {
            lines.add(l.styled(l.name() + " — " + role.label(), Charts.Style.bold(role.paint())));
          }
        });
    byModel.forEach(
        (name, l) -> {
          if (!roles.containsKey(name)) {
            lines.add(l.styled(l.name(), Charts.Style.BACKGROUND));
          }
        });
    return lines;
  }
}
