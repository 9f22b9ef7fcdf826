#!/usr/bin/perl
# A test SMSC on a different SMPP implementation from the project's (Debian's Net::SMPP, Perl),
# behaving as real SMSCs do where they differ: message ids in hexadecimal or decimal, padded,
# in upper case, in the receipt's text or only in the receipted_message_id TLV; receipt states
# and the message_state TLV; ESME_RTHROTTLED / ESME_RMSGQFUL; generic_nack.
# Prints "port N" once listening, then "SUBMIT <id as answered> <destination> <text>" per
# accepted submit_sm. Options (all optional):
#   --resp-base hex|dec --resp-pad N --resp-upper   the id in submit_sm_resp
#   --dlr-base hex|dec --dlr-pad N --dlr-upper      the id in the receipt
#   --dlr-where text|tlv|both                       where the receipt names it
#   --stat WORD --state N                           receipt stat and message_state TLV
#   --throttle N --qfull N --nack N                 the first N submits of a connection answered
#                                                   ESME_RTHROTTLED, ESME_RMSGQFUL, generic_nack
#   --hold N --drop N --spool FILE                  on the first connection only: the first N
#                                                   submits accepted but never answered (their
#                                                   receipts kept in FILE and sent to the next
#                                                   bind, as an SMSC delivers pending receipts),
#                                                   the next N read and lost ("DROP <dest> <text>")
use strict;
use warnings;
use Getopt::Long;
use Net::SMPP;
use POSIX qw(strftime);

$| = 1;
my %o = (
  'resp-base' => 'hex', 'resp-pad' => 0, 'resp-upper' => 0,
  'dlr-base' => 'hex', 'dlr-pad' => 0, 'dlr-upper' => 0, 'dlr-where' => 'text',
  stat => 'DELIVRD', state => -1, throttle => 0, qfull => 0, nack => 0,
  hold => 0, drop => 0, spool => '',
);
GetOptions(\%o, 'resp-base=s', 'resp-pad=i', 'resp-upper', 'dlr-base=s', 'dlr-pad=i',
  'dlr-upper', 'dlr-where=s', 'stat=s', 'state=i', 'throttle=i', 'qfull=i', 'nack=i',
  'hold=i', 'drop=i', 'spool=s')
  or die "bad options\n";

my $listen = Net::SMPP->new_listen('127.0.0.1', port => 0, listen => 16) or die "listen: $!\n";
print 'port ', $listen->sockport, "\n";
$SIG{CHLD} = 'IGNORE';
$SIG{TERM} = sub { exit 0 };

sub write_id {
  my ($n, $base, $pad, $upper) = @_;
  my $s = $base eq 'hex' ? sprintf('%x', $n) : sprintf('%d', $n);
  $s = uc $s if $upper;
  $s = ('0' x ($pad - length $s)) . $s if $pad > length $s;
  return $s;
}

my $connections = 0;
while (1) {
  my $smpp = $listen->accept or next;
  $connections++;
  my $pid = fork;
  next if $pid;    # the parent goes on listening
  close $listen;
  serve($smpp, $connections == 1);
  exit 0;
}

# A delivery receipt for submit number $n (to, from: the submit's destination and source).
sub receipt {
  my ($smpp, $n, $to, $from, $text) = @_;
  my $did = write_id($n, $o{'dlr-base'}, $o{'dlr-pad'}, $o{'dlr-upper'});
  my $date = strftime('%y%m%d%H%M', gmtime);
  my $body = ($o{'dlr-where'} eq 'tlv' ? '' : "id:$did ")
    . "sub:001 dlvrd:001 submit date:$date done date:$date stat:$o{stat} err:000 text:"
    . substr($text, 0, 20);
  my @tlv;
  push @tlv, receipted_message_id => "$did\0" if $o{'dlr-where'} ne 'text';
  push @tlv, message_state => pack('C', $o{state}) if $o{state} >= 0;
  $smpp->deliver_sm(
    source_addr => $to,
    destination_addr => $from,
    esm_class => 0x04,
    short_message => $body,
    @tlv,
    async => 1,
  );
}

# Receipts of submits a previous connection accepted without answering.
sub send_spooled {
  my ($smpp) = @_;
  return unless $o{spool} && -e $o{spool};
  open(my $in, '<', $o{spool}) or return;
  my @lines = <$in>;
  close $in;
  unlink $o{spool};
  for my $line (@lines) {
    chomp $line;
    my ($n, $to, $from, $text) = split /\t/, $line, 4;
    receipt($smpp, $n, $to, $from, $text // '');
  }
}

sub serve {
  my ($smpp, $first) = @_;
  my ($held, $dropped) = (0, 0);
  # Ids with letters in hexadecimal, distinct per connection.
  my $next = 0x1a2b0000 + ($$ % 4096) * 65536;
  my $submits = 0;
  while (my $pdu = $smpp->read_pdu) {
    my $cmd = $pdu->{cmd};
    if ($cmd == Net::SMPP::CMD_bind_transceiver) {
      $smpp->bind_transceiver_resp(seq => $pdu->{seq}, system_id => 'perlsmsc');
      send_spooled($smpp) unless $first;
    } elsif ($cmd == Net::SMPP::CMD_enquire_link) {
      $smpp->enquire_link_resp(seq => $pdu->{seq});
    } elsif ($cmd == Net::SMPP::CMD_unbind) {
      $smpp->unbind_resp(seq => $pdu->{seq});
      return;
    } elsif ($cmd == Net::SMPP::CMD_submit_sm) {
      $submits++;
      my $text = $pdu->{short_message} // '';
      if ($first && $held < $o{hold}) {
        # Accepted, never answered: the receipt goes to whoever binds next.
        $held++;
        my $n = $next++;
        my $rid = write_id($n, $o{'resp-base'}, $o{'resp-pad'}, $o{'resp-upper'});
        print "SUBMIT $rid $pdu->{destination_addr} $text\n";
        open(my $out, '>>', $o{spool}) or die "spool: $!\n";
        print $out join("\t", $n, $pdu->{destination_addr}, $pdu->{source_addr}, $text), "\n";
        close $out;
        next;
      }
      if ($first && $dropped < $o{drop}) {
        $dropped++;
        print "DROP $pdu->{destination_addr} $text\n";
        next;
      }
      if ($submits <= $o{nack}) {
        $smpp->generic_nack(seq => $pdu->{seq}, status => 0x02);
        next;
      }
      if ($submits <= $o{nack} + $o{throttle}) {
        $smpp->submit_sm_resp(seq => $pdu->{seq}, status => 0x58, message_id => '');
        next;
      }
      if ($submits <= $o{nack} + $o{throttle} + $o{qfull}) {
        $smpp->submit_sm_resp(seq => $pdu->{seq}, status => 0x14, message_id => '');
        next;
      }
      my $n = $next++;
      my $rid = write_id($n, $o{'resp-base'}, $o{'resp-pad'}, $o{'resp-upper'});
      $smpp->submit_sm_resp(seq => $pdu->{seq}, message_id => $rid);
      print "SUBMIT $rid $pdu->{destination_addr} $text\n";
      receipt($smpp, $n, $pdu->{destination_addr}, $pdu->{source_addr}, $text);
    }
    # deliver_sm_resp and anything else: nothing to do.
  }
}
