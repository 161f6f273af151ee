//! Paging through a list action: [`Paginator`] sends the request once per page, advancing
//! its `Offset` by what the action's offset counts (a page index or items), and stops at an
//! empty page or once the answer's documented total is reached.

use std::collections::VecDeque;

use futures_util::Stream;

use crate::action::{Action, Transport, call};
use crate::error::Error;

/// What a list request's `Offset` counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OffsetKind {
    /// A page index from 0: the next page is `Offset + 1`.
    Page,
    /// Items to skip: the next page starts after the items received.
    Item,
}

/// A list action, on its request type: what generated code states about its paging.
pub trait Paginated: Action {
    /// One item of a page.
    type Item;
    /// What `Offset` counts.
    const OFFSET: OffsetKind;
    /// The request's `Offset` (0 when unset).
    fn offset(&self) -> u64;
    /// Sets the request's `Offset`.
    fn set_offset(&mut self, offset: u64);
    /// How many items a page holds.
    fn item_count(page: &Self::Response) -> usize;
    /// A page's items.
    fn into_items(page: Self::Response) -> Vec<Self::Item>;
    /// The number of items of every page together, where the answer carries it and upstream
    /// documents it as such.
    fn total(page: &Self::Response) -> Option<u64>;
}

/// The pages of a list action: each page is one call, validated, rate-limited and bounded by
/// its own deadline like any other. Made by the generated client's `<action>_pages` methods.
///
/// It stops after an empty page, or once the items received reach the answer's total where
/// upstream documents one; a page shorter than the limit is not taken as the last, since
/// upstream does not say so. After an error it yields nothing more. At most
/// [`max_pages`](Self::max_pages) pages are fetched (10,000 unless set); the page after that
/// is [`Error::TooManyPages`].
#[derive(Debug)]
pub struct Paginator<'a, T: ?Sized, A> {
    transport: &'a T,
    request: A,
    /// Items received so far, and how many preceded the first page (when known).
    received: u64,
    before_first: Option<u64>,
    pages: u32,
    max_pages: u32,
    done: bool,
}

impl<'a, T: Transport + Sync + ?Sized, A: Paginated + Send + Sync> Paginator<'a, T, A> {
    /// Pages of `request` from its `Offset`, sent through `transport`.
    pub fn new(transport: &'a T, request: A) -> Self {
        // Items before the first page: the offset itself for an item offset, none for page
        // 0, and unknown for a later page (the server's page size may be its default).
        let before_first = match (A::OFFSET, request.offset()) {
            (OffsetKind::Item, offset) => Some(offset),
            (OffsetKind::Page, 0) => Some(0),
            (OffsetKind::Page, _) => None,
        };
        Self {
            transport,
            request,
            received: 0,
            before_first,
            pages: 0,
            max_pages: 10_000,
            done: false,
        }
    }

    /// Fetches at most `pages` pages; the next is refused with [`Error::TooManyPages`].
    pub fn max_pages(mut self, pages: u32) -> Self {
        self.max_pages = pages;
        self
    }

    /// The next page, or `None` after the last (or after an error).
    pub async fn next_page(&mut self) -> Option<Result<A::Response, Error<A::Code>>> {
        if self.done {
            return None;
        }
        if self.pages == self.max_pages {
            self.done = true;
            return Some(Err(Error::TooManyPages {
                limit: self.max_pages,
            }));
        }
        let page = match call(self.transport, &self.request).await {
            Ok(page) => page,
            Err(error) => {
                self.done = true;
                return Some(Err(error));
            }
        };
        self.pages += 1;
        let count = A::item_count(&page) as u64;
        if count == 0 {
            self.done = true;
            // The first page is an answer even when empty (it carries the total); a later
            // empty page only says the previous one was the last.
            return (self.pages == 1).then_some(Ok(page));
        }
        self.received += count;
        let reached = match (A::total(&page), self.before_first) {
            (Some(total), Some(before)) => before.saturating_add(self.received) >= total,
            _ => false,
        };
        let next = match A::OFFSET {
            OffsetKind::Page => self.request.offset().saturating_add(1),
            OffsetKind::Item => self.request.offset().saturating_add(count),
        };
        self.request.set_offset(next);
        self.done = reached;
        Some(Ok(page))
    }

    /// The next item, fetching pages as needed; `None` after the last.
    async fn next_item(
        &mut self,
        buffer: &mut VecDeque<A::Item>,
    ) -> Option<Result<A::Item, Error<A::Code>>> {
        loop {
            if let Some(item) = buffer.pop_front() {
                return Some(Ok(item));
            }
            match self.next_page().await? {
                Ok(page) => buffer.extend(A::into_items(page)),
                Err(error) => return Some(Err(error)),
            }
        }
    }

    /// The pages as a [`Stream`].
    pub fn pages(self) -> impl Stream<Item = Result<A::Response, Error<A::Code>>> + 'a
    where
        A: 'a,
    {
        futures_util::stream::unfold(self, |mut pages| async move {
            let page = pages.next_page().await?;
            Some((page, pages))
        })
    }

    /// The items of every page, in order, as a [`Stream`]; at most one page is held at a time.
    pub fn items(self) -> impl Stream<Item = Result<A::Item, Error<A::Code>>> + 'a
    where
        A: 'a,
        A::Item: 'a,
    {
        futures_util::stream::unfold(
            (self, VecDeque::new()),
            |(mut pages, mut buffer)| async move {
                let item = pages.next_item(&mut buffer).await?;
                Some((item, (pages, buffer)))
            },
        )
    }
}
