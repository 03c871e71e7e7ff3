package org.cohortfusion.cohort.ingest;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/** Options of the Parquet writer for the aligned table, derived from its schema. */
final class ParquetWriterOptions {
  private ParquetWriterOptions() {}

  /**
   * Parquet writer options that turn dictionary encoding off for every float or double array
   * (vectors, images, time-series tensors): measured values rarely repeat, so the writer would fill
   * a dictionary for each column chunk only to give it up, and pay a hash lookup per element
   * meanwhile. Other columns (split, categories) keep their dictionaries.
   */
  static Map<String, String> noDictionaryForFloatArrays(StructType schema) {
    Map<String, String> options = new LinkedHashMap<>();
    addNoDictionary(schema, "", options);
    return options;
  }

  private static void addNoDictionary(
      StructType struct, String prefix, Map<String, String> options) {
    for (StructField f : struct.fields()) {
      DataType t = f.dataType();
      if (t instanceof StructType nested) {
        addNoDictionary(nested, prefix + f.name() + ".", options);
      } else if (t instanceof ArrayType a && TableValidator.isFloating(a.elementType())) {
        // Spark writes arrays as standard three-level Parquet lists: <column>.list.element.
        options.put("parquet.enable.dictionary#" + prefix + f.name() + ".list.element", "false");
      }
    }
  }
}
