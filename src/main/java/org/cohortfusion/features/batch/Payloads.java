package org.cohortfusion.features.batch;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.types.DataTypes;

/**
 * The payload column of a modality in the layout {@link FeatureBatches} reads by position. For
 * tabular modalities that is a struct of the numeric fields (as double) then the categorical ones
 * (as string), in {@link ModalityPreprocessing} order, whatever the stored struct's field order;
 * other kinds are used as stored.
 */
public final class Payloads {
  private Payloads() {}

  public static Column column(ModalityPreprocessing prep) {
    String m = prep.modality();
    if (prep.kind() != org.cohortfusion.stage.ModalityKind.TABULAR) {
      return col(m).as(m);
    }
    List<Column> fields = new ArrayList<>();
    for (String f : prep.numericFeatures()) {
      fields.add(col(m + "." + quote(f)).cast(DataTypes.DoubleType).as(f));
    }
    for (String f : prep.categoricalFeatures()) {
      fields.add(col(m + "." + quote(f)).cast(DataTypes.StringType).as(f));
    }
    return when(col(m).isNull(), lit(null)).otherwise(struct(fields.toArray(Column[]::new))).as(m);
  }

  private static String quote(String field) {
    return "`" + field.replace("`", "``") + "`";
  }
}
