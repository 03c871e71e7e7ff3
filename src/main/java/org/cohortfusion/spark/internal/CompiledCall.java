package org.cohortfusion.spark.internal;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.objects.StaticInvoke;
import org.apache.spark.sql.types.AbstractDataType;
import org.apache.spark.sql.types.DataType;
import scala.collection.JavaConverters;

/**
 * A call of a public static Java method from Spark's generated code ({@link StaticInvoke}): the
 * method is compiled by the JIT on its own and takes Spark's internal values (UTF8String,
 * ArrayData, InternalRow) as they are, where a public {@code udf} would convert each argument to a
 * Java object first and is left out of whole-stage code generation.
 */
final class CompiledCall {
  private CompiledCall() {}

  /**
   * {@code target.method(args...)} as a column of type {@code returns}, null when any argument is
   * null. {@code inputTypes}: what Spark casts the arguments to (empty: no casts).
   */
  static Column of(
      Class<?> target,
      String method,
      DataType returns,
      List<Column> args,
      List<? extends AbstractDataType> inputTypes) {
    List<Expression> exprs = new ArrayList<>(args.size());
    for (Column a : args) {
      exprs.add(a.expr());
    }
    Expression invoke =
        new StaticInvoke(
            target,
            returns,
            method,
            JavaConverters.asScalaBuffer(exprs).toSeq(),
            JavaConverters.asScalaBuffer(new ArrayList<AbstractDataType>(inputTypes)).toSeq(),
            true, // propagateNull
            false, // returnNullable
            true); // isDeterministic
    return new Column(invoke);
  }
}
