package org.cohortfusion.testing;

import java.util.Iterator;
import java.util.List;

/**
 * An iterator over a list that counts how many elements were taken: a per-partition function given
 * one shows how much of its partition it read before emitting an element (a streaming function
 * reads one batch, a buffering one all).
 */
public final class CountingIterator<T> implements Iterator<T> {
  private final Iterator<T> items;
  private int consumed;

  public CountingIterator(List<T> items) {
    this.items = items.iterator();
  }

  @Override
  public boolean hasNext() {
    return items.hasNext();
  }

  @Override
  public T next() {
    T item = items.next();
    consumed++;
    return item;
  }

  /** How many elements were taken so far. */
  public int consumed() {
    return consumed;
  }
}
